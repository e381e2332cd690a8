package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"time"

	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Helm says which chart to render and with what values.
type Helm struct {
	// Chart is the chart's directory, relative to the rendered path; ""
	// means the path itself. Its dependencies are read from its charts/
	// directory; none are downloaded. Ignored when Archive is set.
	Chart string
	// Archive is a packaged chart (.tgz) outside the checkout, as pulled
	// from a chart repository. When set, the chart is read from it.
	Archive string
	// ReleaseName is .Release.Name; "" means "release-name", as `helm
	// template` has it.
	ReleaseName string
	// Namespace is .Release.Namespace; "" means "default".
	Namespace string
	// ValuesFiles are values files in the checkout, relative to the
	// rendered path, merged in order over the chart's values.
	ValuesFiles []string
	// Values are merged over the chart's values and ValuesFiles.
	Values map[string]any
	// SkipCRDs leaves out the chart's crds/ directories.
	SkipCRDs bool
	// Capabilities describe the target cluster to the templates.
	Capabilities Capabilities
}

// Capabilities describe the cluster a chart is rendered for, as templates
// see it in .Capabilities.
type Capabilities struct {
	// KubeVersion is the cluster's version, as "v1.37.2"; "" means the
	// version Helm was built against.
	KubeVersion string
	// APIVersions are what the cluster serves, as "apps/v1" and
	// "apps/v1/Deployment", in addition to Kubernetes' built-in versions.
	APIVersions []string
}

// Defaults `helm template` uses for an unnamed release.
const (
	defaultReleaseName = "release-name"
	defaultNamespace   = "default"
)

// renderHelm renders the chart of opts.Helm, found from dir, as `helm
// template` does, and returns its objects: CRDs first, then the templates in
// Helm's install order, then the hooks weir applies.
func renderHelm(ctx context.Context, co *checkout, dir target, opts Options) ([]*unstructured.Unstructured, error) {
	h := opts.Helm
	if h == nil {
		h = &Helm{}
	}
	ch, where, err := loadChart(co, dir, h, opts.MaxOutputBytes)
	if err != nil {
		return nil, err
	}
	vals, err := helmValues(co, dir, h.ValuesFiles, h.Values)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir.rel, err)
	}
	rel, err := helmTemplate(ctx, ch, vals, h, opts.Timeout)
	if err != nil {
		return nil, fmt.Errorf("render %s: helm: %w", where, err)
	}
	if n := releaseBytes(rel); n > opts.MaxOutputBytes {
		return nil, fmt.Errorf("render %s: helm produced %d bytes, more than the %d one render may produce", where, n, opts.MaxOutputBytes)
	}
	return collectRelease(rel, opts.MaxObjects)
}

// loadChart loads the chart to render and names it for errors: the archive,
// or the directory of the checkout.
func loadChart(co *checkout, dir target, h *Helm, maxBytes int64) (*chart.Chart, string, error) {
	if h.Archive != "" {
		where := filepath.Base(h.Archive)
		ch, err := loader.LoadFile(h.Archive)
		if err == nil {
			err = checkChart(ch)
		}
		if err != nil {
			return nil, "", fmt.Errorf("render %s: %w", where, err)
		}
		return ch, where, nil
	}
	if isAbs(h.Chart) {
		return nil, "", fmt.Errorf("render %s: chart %s: path must be relative", dir.rel, h.Chart)
	}
	cd, err := co.dir(path.Join(dir.rel, h.Chart))
	if err != nil {
		return nil, "", err
	}
	files, err := co.chartFiles(cd, maxBytes)
	if err != nil {
		return nil, "", err
	}
	ch, err := loader.LoadFiles(files)
	if err == nil {
		err = checkChart(ch)
	}
	if err != nil {
		return nil, "", fmt.Errorf("render %s: %w", cd.rel, err)
	}
	return ch, cd.rel, nil
}

// checkChart refuses what `helm template` refuses before rendering: a
// library chart, and dependencies missing from charts/, which weir never
// downloads.
func checkChart(ch *chart.Chart) error {
	if ch.Metadata.Type == "library" {
		return errors.New("a library chart cannot be rendered on its own")
	}
	ac, err := ci.NewAccessor(ch)
	if err != nil {
		return err
	}
	if reqs := ac.MetaDependencies(); len(reqs) > 0 {
		if err := action.CheckDependencies(ch, reqs); err != nil {
			return fmt.Errorf("%w: vendor them into charts/ with `helm dependency build`", err)
		}
	}
	return nil
}

// helmValues merges the values files, read from the checkout relative to
// dir, in order, then the inline values, as `helm template -f ... -f ...`
// does. The chart's own values lie beneath them all.
func helmValues(co *checkout, dir target, files []string, inline map[string]any) (map[string]any, error) {
	merged := map[string]any{}
	for i, name := range files {
		f, err := co.file(dir, name)
		if err != nil {
			return nil, fmt.Errorf("valuesFiles[%d]: %w", i, err)
		}
		data, err := co.readFile(f.real)
		if err != nil {
			return nil, fmt.Errorf("valuesFiles[%d]: %s: %w", i, f.rel, withoutPath(err))
		}
		vals, err := loader.LoadValues(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("valuesFiles[%d]: %s: %w", i, f.rel, err)
		}
		merged = loader.MergeMaps(merged, vals)
	}
	return loader.MergeMaps(merged, inline), nil
}

// helmTemplate runs Helm's install action in client-only dry-run mode, the
// way `helm template` does. Go templates cannot be interrupted: when the
// render outlives ctx, helmTemplate returns and the template finishes in
// the background, which is why the controller renders in a child process
// that it kills (package isolate).
func helmTemplate(ctx context.Context, ch *chart.Chart, vals map[string]any, h *Helm, timeout time.Duration) (*release.Release, error) {
	install, err := newInstall(h)
	if err != nil {
		return nil, err
	}
	type result struct {
		rel *release.Release
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("template engine panicked: %v", r)}
			}
		}()
		rel, err := install.RunWithContext(ctx, ch, vals)
		r, _ := rel.(*release.Release)
		done <- result{rel: r, err: err}
	}()
	select {
	case r := <-done:
		if r.err == nil && r.rel == nil {
			r.err = errors.New("no release rendered")
		}
		return r.rel, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("rendering took longer than %s", timeout)
		}
		return nil, ctx.Err()
	}
}

// newInstall returns an install action that renders without a cluster.
func newInstall(h *Helm) (*action.Install, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = orDefault(h.ReleaseName, defaultReleaseName)
	install.Namespace = orDefault(h.Namespace, defaultNamespace)
	install.IncludeCRDs = !h.SkipCRDs
	install.APIVersions = common.VersionSet(h.Capabilities.APIVersions)
	if v := h.Capabilities.KubeVersion; v != "" {
		kv, err := common.ParseKubeVersion(v)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", v, err)
		}
		install.KubeVersion = kv
	}
	return install, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
