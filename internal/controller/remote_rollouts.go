package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// RemoteRollouts drive the Rollouts that Applications apply to a remote
// cluster (remoteRollouts).
type RemoteRollouts interface {
	// Drive has the cluster's Rollouts driven from now on, or says why
	// they cannot be: the cluster does not serve the kind.
	Drive(ctx context.Context) error
	// Released carries the Rollouts a sync released a template to, or
	// retired one from, to their reconciler.
	Released() chan<- event.GenericEvent
}

// remoteRollouts drives the Rollouts of one remote cluster on that
// cluster: a controller of its own watches them (those weir applied)
// through a cache of the cluster, from the first sync of a set with a
// Rollout that finds the kind served there, until the cluster's context
// ends.
type remoteRollouts struct {
	ctx      context.Context // the cluster's
	secret   types.NamespacedName
	mapper   meta.RESTMapper
	released chan event.GenericEvent
	cache    cache.Cache
	ctrl     controller.Controller
	log      logr.Logger

	once    sync.Once
	started atomic.Bool
}

// newRemoteRollouts returns the Rollouts of the cluster that cfg reaches,
// whose kubeconfig Secret is secret, reconciled by r (its Applications and
// Identities those of the cluster) reading and writing them with weir's
// credentials there. Nothing runs before Drive.
func newRemoteRollouts(ctx context.Context, secret types.NamespacedName, cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper, r RolloutReconciler, opts controller.Options) (*remoteRollouts, error) {
	direct, err := client.New(cfg, client.Options{Scheme: scheme, Mapper: mapper})
	if err != nil {
		return nil, err
	}
	rollouts, err := cache.New(cfg, cache.Options{Scheme: scheme, Mapper: mapper, DefaultLabelSelector: managed})
	if err != nil {
		return nil, err
	}
	w := &remoteRollouts{ctx: ctx, secret: secret, mapper: mapper, released: make(chan event.GenericEvent, eventBuffer), cache: rollouts,
		log: opts.Logger.WithValues("cluster", secret.String())}
	r.Client, r.Reader, r.Released = direct, direct, w.released
	// A cluster's controller is made again, under the same name, when its
	// Secret changes.
	opts.SkipNameValidation = ptr.To(true)
	if w.ctrl, err = r.NewController("rollout/"+secret.String(), rollouts, opts); err != nil {
		return nil, err
	}
	return w, nil
}

// Drive starts the cluster's controller, once the cluster serves Rollouts.
func (w *remoteRollouts) Drive(context.Context) error {
	if w.started.Load() {
		return nil
	}
	if _, err := w.mapper.RESTMapping(weirv1.RolloutKind.GroupKind(), weirv1.RolloutKind.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return fmt.Errorf("the remote cluster of Secret %s does not serve %s Rollouts: install weir's CRDs there (config/crd/bases), as on weir's own cluster",
				w.secret, weirv1.GroupVersion)
		}
		return fmt.Errorf("the remote cluster of Secret %s: %w", w.secret, err)
	}
	w.once.Do(w.start)
	return nil
}

// start runs the cache and the controller until the cluster's context
// ends. A controller that stops before (its cache never synced: weir may
// not list the cluster's Rollouts) says so in the log.
func (w *remoteRollouts) start() {
	go func() { _ = w.cache.Start(w.ctx) }()
	go func() {
		if err := w.ctrl.Start(w.ctx); err != nil {
			w.log.Error(err, "the Rollouts of the remote cluster are not driven until weir's clients of it are made again (its kubeconfig Secret changes, or Applications target it again after none did)")
		}
	}()
	w.started.Store(true)
}

// Released carries the Rollouts a sync released to the cluster's
// controller.
func (w *remoteRollouts) Released() chan<- event.GenericEvent { return w.released }

// managed selects the objects weir applied.
var managed = labels.SelectorFromSet(labels.Set{apply.ManagedByLabel: apply.DefaultFieldManager})
