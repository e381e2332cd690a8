// Package livediff says how the cluster differs from Git for an
// Application, as `weir diff` prints it and the web UI shows it: the
// Application's revision is fetched and rendered, every object it applies
// is dry-run on the server, and each is compared with the live object,
// Secret values masked (apply.Manager.Diff). Every read is made with the
// client configuration it is given, so with its identity; the objects of
// an Application that syncs to a remote cluster are read there with the
// credentials of its kubeconfig Secret.
package livediff

import (
	"context"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
)

// Options say where sources and charts are cached and whether file://
// sources may be read.
type Options struct {
	// SourceDir and ChartDir cache fetched repositories and charts.
	SourceDir, ChartDir string
	// AllowFileSources lets file:// URLs be read: right on the user's own
	// disk (weir diff, weir ui), wrong on a server's.
	AllowFileSources bool
}

// Result is the revision compared and one diff per object, empty where the
// object matches.
type Result struct {
	// Revision is the revision the cluster is compared with.
	Revision string
	// Diffs holds one entry per applied object.
	Diffs []apply.ObjectDiff
}

// Changed counts the objects that differ.
func (r Result) Changed() int {
	n := 0
	for _, d := range r.Diffs {
		if d.Diff != "" {
			n++
		}
	}
	return n
}

// Diff compares app's desired state at its tracked revision with the
// cluster, reading both with cfg and c.
func Diff(ctx context.Context, cfg *rest.Config, c client.Client, app *weirv1.Application, opts Options) (Result, error) {
	target, err := destination(ctx, cfg, c, app)
	if err != nil {
		return Result{}, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(target)
	if err != nil {
		return Result{}, err
	}
	loader := &desired.Loader{
		Reader:    c,
		Fetcher:   source.NewFetcher(opts.SourceDir, source.Options{AllowFileSources: opts.AllowFileSources}),
		Renderer:  &isolate.Renderer{},
		Charts:    helmrepo.NewPuller(opts.ChartDir, helmrepo.Options{}),
		Discovery: dc,
	}
	state, err := loader.Load(ctx, app)
	if err != nil {
		return Result{}, err
	}
	m, err := apply.NewManager(cfg, apply.Options{})
	if err == nil && target != cfg {
		m, err = m.On(target)
	}
	if err != nil {
		return Result{}, err
	}
	apply.SetOwner(state.Objects, apply.OwnerOf(app)) // as the controller applies them
	plan, err := apply.NewPlan(state.Objects)
	if err != nil {
		return Result{}, err
	}
	objs := plan.Applied() // not the hooks a sync skips, nor those run only when it fails
	if err := m.Normalize(ctx, objs, state.Namespace); err != nil {
		return Result{}, err
	}
	diffs, err := m.Diff(ctx, objs)
	if err != nil {
		return Result{}, err
	}
	return Result{Revision: state.Artifact.Revision, Diffs: diffs}, nil
}

// destination is the client configuration of the cluster app syncs to:
// cfg for weir's own, and for a remote cluster the one its kubeconfig
// Secret holds, read with c.
func destination(ctx context.Context, cfg *rest.Config, c client.Client, app *weirv1.Application) (*rest.Config, error) {
	remote, ok, err := cluster.RemoteConfig(ctx, c, app)
	if !ok {
		return cfg, nil
	}
	return remote, err
}
