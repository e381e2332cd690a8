package render

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
)

// errHelm refuses Helm charts, which would run the helm binary.
var errHelm = errors.New("helm charts in kustomizations are not enabled")

// krustyLock serialises kustomize builds. krusty keeps process-wide state:
// each build installs the OpenAPI schema its kustomization asks for in kyaml's
// package globals, so concurrent builds could each run with the other's
// schema, and older releases raced outright (kustomize issue #3659). Render
// is a function with nothing to own the lock, so it is the package's one
// global. It is a channel rather than a sync.Mutex so that a render whose
// context ends while it waits gives up.
var krustyLock = make(chan struct{}, 1)

// renderKustomize builds the kustomization in dir and returns its objects in
// the order kustomize emits them.
func renderKustomize(ctx context.Context, co *checkout, dir target, limit int) ([]*unstructured.Unstructured, error) {
	fsys := &confinedFS{co: co, ctx: ctx, secretSources: map[string]bool{}}
	if err := checkKustomization(fsys, dir.real, map[string]bool{}); err != nil {
		return nil, err
	}
	m, err := build(ctx, fsys, dir.real)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("render %s: %w", dir.rel, ctxErr)
	}
	if fsys.readErr != nil {
		return nil, fmt.Errorf("render %s: %w", dir.rel, fsys.readErr)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir.rel, co.kustomizeError(err))
	}
	if m.Size() > limit {
		return nil, fmt.Errorf("render %s: kustomize produced %d objects, more than the %d one render may produce",
			dir.rel, m.Size(), limit)
	}
	return collectBuilt(dir.rel, m, limit)
}

// krustyOptions are the build options: kustomize's defaults spelled out, so
// a reader sees that files load only from below each kustomization and that
// only built-in plugins run (no exec or container functions, no Helm).
func krustyOptions() *krusty.Options {
	return &krusty.Options{
		// As `kustomize build` does: a kustomization's sortOptions, else
		// kustomize's legacy order.
		Reorder:          krusty.ReorderOptionUnspecified,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	}
}

// build runs kustomize on dir, one build at a time, turning a panic inside
// kustomize into an error.
func build(ctx context.Context, fsys *confinedFS, dir string) (m resmap.ResMap, err error) {
	select {
	case krustyLock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-krustyLock }()
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("kustomize panicked: %v", r)
		}
	}()
	return krusty.MakeKustomizer(krustyOptions()).Run(fsys, dir)
}

// collectBuilt converts kustomize's resources into objects.
func collectBuilt(dir string, m resmap.ResMap, limit int) ([]*unstructured.Unstructured, error) {
	c := newCollector(limit)
	for _, res := range m.Resources() {
		where := fmt.Sprintf("%s: %s", dir, res.CurId())
		y, err := res.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", where, err)
		}
		doc, derr := decodeDocument(document{line: 1, data: y})
		if derr != nil {
			return nil, fmt.Errorf("render %s: %w", where, derr)
		}
		if doc == nil {
			continue
		}
		if err := c.addDocument(doc, where); err != nil {
			return nil, fmt.Errorf("render %s: %w", where, err)
		}
	}
	return c.objs, nil
}

// kustomizeError is an error from kustomize with the checkout's absolute
// paths made relative to its root, so that it reads like the user's tree.
type kustomizeError struct {
	msg string
	err error
}

func (e *kustomizeError) Error() string { return e.msg }
func (e *kustomizeError) Unwrap() error { return e.err }

// kustomizeError rewrites err, from kustomize, for the user.
func (co *checkout) kustomizeError(err error) error {
	if strings.Contains(err.Error(), "--enable-helm") {
		// A HelmChartInflationGenerator configured through `generators`.
		return errHelm
	}
	msg := strings.ReplaceAll(err.Error(), co.root+string(filepath.Separator), "")
	msg = strings.ReplaceAll(msg, co.root, ".")
	return &kustomizeError{msg: "kustomize: " + msg, err: err}
}
