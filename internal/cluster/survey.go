package cluster

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Status is a registered remote cluster as `weir get clusters` shows it.
type Status struct {
	// Namespace and Secret name the kubeconfig Secret.
	Namespace string `json:"namespace"`
	Secret    string `json:"secret"`
	// Server is the API server's URL; empty when the kubeconfig is refused.
	Server string `json:"server,omitempty"`
	// Version is the API server's gitVersion, when it answered.
	Version string `json:"version,omitempty"`
	// Reachable says whether the API server answered within the timeout.
	Reachable bool `json:"reachable"`
	// Applications is how many Applications target the cluster.
	Applications int `json:"applications"`
	// Message says why the cluster is not reachable, or its kubeconfig
	// refused.
	Message string `json:"message,omitempty"`
}

// Targets counts the Applications of apps that target each remote
// cluster, by kubeconfig Secret: the registered clusters.
func Targets(apps []weirv1.Application) map[types.NamespacedName]int {
	targets := map[types.NamespacedName]int{}
	for i := range apps {
		if key, ok := SecretOf(&apps[i]); ok {
			targets[key]++
		}
	}
	return targets
}

// Survey asks each cluster that apps target, and those of the Secrets
// more names, for its version, all at once, each within timeout, reading
// its kubeconfig Secret with secrets. The result is sorted by namespace
// and Secret.
func Survey(ctx context.Context, secrets client.Reader, apps []weirv1.Application, more []types.NamespacedName, timeout time.Duration) []Status {
	targets := Targets(apps)
	for _, key := range more {
		targets[key] += 0
	}
	statuses := make([]Status, 0, len(targets))
	for key, n := range targets {
		statuses = append(statuses, Status{Namespace: key.Namespace, Secret: key.Name, Applications: n})
	}
	slices.SortFunc(statuses, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Secret, b.Secret))
	})
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i].survey(ctx, secrets, timeout) })
	}
	wg.Wait()
	return statuses
}

// survey fills in s's server, version and reachability.
func (s *Status) survey(ctx context.Context, secrets client.Reader, timeout time.Duration) {
	secret := &corev1.Secret{}
	if err := secrets.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: s.Secret}, secret); err != nil {
		s.Message = "read the kubeconfig Secret: " + err.Error()
		return
	}
	cfg, err := RESTConfig(secret)
	if err != nil {
		s.Message = err.Error()
		return
	}
	s.Server = cfg.Host
	cfg.Timeout = timeout
	probe, err := NewProbe(cfg)
	if err == nil {
		s.Version, err = probe.ServerVersion(ctx)
	}
	s.Reachable = err == nil
	if err != nil {
		s.Message = err.Error()
	}
}
