package cluster

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// RefusedError is a kubeconfig weir will not use: it is missing, malformed,
// or asks for credentials other than static ones. Its message names the
// Secret and the field, never a credential.
type RefusedError struct {
	// Secret is "namespace/name".
	Secret string
	// Reason says what is wrong, naming the field.
	Reason string
}

func (e *RefusedError) Error() string {
	return "kubeconfig in Secret " + e.Secret + ": " + e.Reason
}

// IsRefused reports whether err is, or wraps, a RefusedError.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// RESTConfig returns the client configuration of the current context of
// the kubeconfig that secret holds under weirv1.ClusterKubeconfigKey, once
// Check accepts it.
func RESTConfig(secret *corev1.Secret) (*rest.Config, error) {
	name := secret.Namespace + "/" + secret.Name
	data, ok := secret.Data[weirv1.ClusterKubeconfigKey]
	if !ok {
		return nil, &RefusedError{Secret: name, Reason: fmt.Sprintf("no key %q", weirv1.ClusterKubeconfigKey)}
	}
	return Parse(name, data)
}

// Parse reads a kubeconfig from the Secret named secret and returns the
// client configuration of its current context, once Check accepts it.
func Parse(secret string, data []byte) (*rest.Config, error) {
	kc, err := clientcmd.Load(data)
	if err != nil {
		// The decoder's errors may quote the text, which may hold a
		// credential: they are not passed on.
		return nil, &RefusedError{Secret: secret, Reason: "not a kubeconfig: it does not decode as one (YAML or JSON)"}
	}
	if err := Check(secret, kc); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*kc, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, &RefusedError{Secret: secret, Reason: "current context: " + err.Error()}
	}
	// Certificates and keys that do not parse are refused now, not at
	// each request; the TLS errors name no part of them.
	if _, err := rest.TLSConfigFor(cfg); err != nil {
		return nil, &RefusedError{Secret: secret, Reason: "current context's certificates: " + err.Error()}
	}
	return cfg, nil
}

// Check accepts a kubeconfig from the Secret named secret only if its
// current context names a cluster with a server, and no entry anywhere in
// it runs a command (exec), calls an auth provider, or reads a file
// (certificate-authority, client-certificate, client-key, tokenFile):
// weir would do so in its own pod, with its own privileges (Flux's
// CVE-2022-24817). Entries are checked in name order, so that the same
// kubeconfig is refused for the same reason.
func Check(secret string, kc *clientcmdapi.Config) error {
	refuse := func(format string, args ...any) error {
		return &RefusedError{Secret: secret, Reason: fmt.Sprintf(format, args...)}
	}
	for _, name := range sortedKeys(kc.AuthInfos) {
		if field := refusedUserField(kc.AuthInfos[name]); field != "" {
			return refuse("users[%q].%s is refused: only a token or client certificate and key given inline are accepted", name, field)
		}
	}
	for _, name := range sortedKeys(kc.Clusters) {
		if c := kc.Clusters[name]; c != nil && c.CertificateAuthority != "" {
			return refuse("clusters[%q].certificate-authority is refused: a file path; give certificate-authority-data", name)
		}
	}
	ctx, ok := kc.Contexts[kc.CurrentContext]
	if kc.CurrentContext == "" || !ok || ctx == nil {
		return refuse("current-context %q names no context", kc.CurrentContext)
	}
	if c := kc.Clusters[ctx.Cluster]; c == nil || c.Server == "" {
		return refuse("contexts[%q] names cluster %q, which has no server", kc.CurrentContext, ctx.Cluster)
	}
	return nil
}

// refusedUserField names the first field of u that is not a static
// credential, or returns "".
func refusedUserField(u *clientcmdapi.AuthInfo) string {
	switch {
	case u == nil:
		return ""
	case u.Exec != nil:
		return "exec"
	case u.AuthProvider != nil:
		return "auth-provider"
	case u.ClientCertificate != "":
		return "client-certificate"
	case u.ClientKey != "":
		return "client-key"
	case u.TokenFile != "":
		return "tokenFile"
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
