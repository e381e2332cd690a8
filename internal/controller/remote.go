package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/drift"
	"weir.dev/weir/internal/identity"
)

// remoteBuilder builds what weir keeps for one remote cluster.
type remoteBuilder struct {
	mgr     ctrl.Manager
	stages  *stageBuilder
	drifted chan<- event.GenericEvent
	// rollouts is what the reconciler of each cluster's Rollouts shares
	// with weir's own (its tenancy, the Applications' sync requests), and
	// rolloutOptions its controller's options.
	rollouts       RolloutReconciler
	rolloutOptions controller.Options
}

// build returns the Destination of the remote cluster cfg reaches, whose
// kubeconfig Secret is secret: the stages of each identity there, with a
// mapper of the cluster's own, a loader that describes the cluster to Helm
// charts, drift watches of its own, which run, and send to b.drifted,
// until ctx ends, and the controller of its Rollouts, which runs from the
// first Drive until ctx ends.
func (b *remoteBuilder) build(ctx context.Context, secret types.NamespacedName, cfg *rest.Config) (Destination, error) {
	applier, err := b.stages.applier.On(cfg)
	if err != nil {
		return Destination{}, err
	}
	stages := *b.stages
	stages.applier = applier
	stages.applications = cluster.Applications{Reader: b.mgr.GetClient(), Secret: secret}
	identities, err := identity.NewCache(cfg, identity.DefaultCacheSize, stages.build)
	if err != nil {
		return Destination{}, err
	}
	watcher, err := newDriftWatcher(cfg, applier)
	if err != nil {
		return Destination{}, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return Destination{}, err
	}
	loader := *b.stages.loader
	loader.Discovery = dc
	ro := b.rollouts
	ro.Applications, ro.Identities = stages.applications, identities
	rollouts, err := newRemoteRollouts(ctx, secret, cfg, b.mgr.GetScheme(), applier.RESTMapper(), ro, b.rolloutOptions)
	if err != nil {
		return Destination{}, err
	}
	go func() { _ = watcher.Start(ctx) }()
	go func() { _ = forwardDrift(watcher, b.drifted)(ctx) }()
	return Destination{Identities: identities, Drift: watcher, Loader: &loader, Rollouts: rollouts}, nil
}

// forwardDrift sends the Applications that w finds drifted to drifted,
// until its context ends; it runs for the leader, as w does.
func forwardDrift(w *drift.Watcher, drifted chan<- event.GenericEvent) manager.RunnableFunc {
	return func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev := <-w.Events():
				select {
				case drifted <- ev:
				case <-ctx.Done():
					return nil
				}
			}
		}
	}
}

var _ Clusters = (*cluster.Registry[Destination])(nil)
