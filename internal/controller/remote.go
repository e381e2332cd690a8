package controller

import (
	"context"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
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
}

// build returns the Destination of the remote cluster cfg reaches: the
// stages of each identity there, with a mapper of the cluster's own, a
// loader that describes the cluster to Helm charts, and drift watches of
// its own, which run, and send to b.drifted, until ctx ends.
func (b *remoteBuilder) build(ctx context.Context, cfg *rest.Config) (Destination, error) {
	applier, err := b.stages.applier.On(cfg)
	if err != nil {
		return Destination{}, err
	}
	stages := *b.stages
	stages.applier = applier
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
	go func() { _ = watcher.Start(ctx) }()
	go func() { _ = forwardDrift(watcher, b.drifted)(ctx) }()
	return Destination{Identities: identities, Drift: watcher, Loader: &loader}, nil
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
