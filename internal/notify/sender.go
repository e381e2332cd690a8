package notify

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// The keys of a Notification's Secret.
const (
	KeyAddress = "address"
	KeyToken   = "token"
	KeyHMACKey = "hmacKey"
)

// providerNames name the providers in errors and logs.
var providerNames = map[weirv1.NotificationProvider]string{
	weirv1.ProviderWebhook: "the webhook", weirv1.ProviderSlack: "Slack", weirv1.ProviderMSTeams: "Microsoft Teams",
	weirv1.ProviderAlertmanager: "Alertmanager", weirv1.ProviderGitHub: "GitHub", weirv1.ProviderGitLab: "GitLab",
	weirv1.ProviderGitea: "Gitea",
}

// sender is n's Sender, with the address and token of its Secret; app
// (nil for none) gives commit statuses their repository.
func (r *Router) sender(ctx context.Context, n *weirv1.Notification, app *weirv1.Application) (Sender, error) {
	secret := map[string][]byte{}
	if ref := n.Spec.SecretRef; ref != nil {
		s := &corev1.Secret{}
		if err := r.Objects.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: ref.Name}, s); err != nil {
			return nil, fmt.Errorf("Notification %s/%s: read Secret %s: %w", n.Namespace, n.Name, ref.Name, err)
		}
		secret = s.Data
	}
	address := string(secret[KeyAddress])
	if address == "" {
		address = n.Spec.Address
	}
	if address == "" {
		return nil, fmt.Errorf("Notification %s/%s has no address: set spec.address or the key %s of its Secret", n.Namespace, n.Name, KeyAddress)
	}
	p := poster{client: r.httpClient(), what: providerNames[n.Spec.Provider] + " of Notification " + n.Namespace + "/" + n.Name}
	token := string(secret[KeyToken])
	switch n.Spec.Provider {
	case weirv1.ProviderSlack:
		return &Slack{poster: p, Address: address}, nil
	case weirv1.ProviderMSTeams:
		return &Teams{poster: p, Address: address}, nil
	case weirv1.ProviderAlertmanager:
		return &Alertmanager{poster: p, Address: address, Token: token}, nil
	case weirv1.ProviderGitHub, weirv1.ProviderGitLab, weirv1.ProviderGitea:
		cs := &CommitStatus{poster: p, Host: n.Spec.Provider, Address: address, Token: token}
		if app != nil {
			cs.Repository = app.Spec.Source.URL
		}
		return cs, nil
	default:
		return &Webhook{poster: p, Address: address, Token: token, HMACKey: secret[KeyHMACKey]}, nil
	}
}

func (r *Router) httpClient() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return &http.Client{Timeout: DefaultTimeout}
}
