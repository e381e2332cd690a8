package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// RemoteConfig returns the client configuration of the remote cluster app
// syncs to, from its kubeconfig Secret as c reads it: with c's identity,
// so that only who may read the Secret acts with its credentials. ok is
// false, and nothing is read, when app syncs to weir's own cluster. A
// Secret c may not read is the API server's error, wrapped with the
// Secret's and the Application's names; a kubeconfig that Check refuses
// is a *RefusedError.
func RemoteConfig(ctx context.Context, c client.Reader, app *weirv1.Application) (cfg *rest.Config, ok bool, err error) {
	key, ok := SecretOf(app)
	if !ok {
		return nil, false, nil
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		return nil, true, fmt.Errorf("read the kubeconfig Secret %s of Application %s/%s's cluster: %w", key, app.Namespace, app.Name, err)
	}
	cfg, err = RESTConfig(secret)
	return cfg, true, err
}
