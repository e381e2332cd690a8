package desired

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/discovery"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source/helmrepo"
)

// Charts pulls Helm charts from chart repositories.
type Charts interface {
	Pull(ctx context.Context, ref helmrepo.Ref, creds helmrepo.Credentials) (helmrepo.Chart, error)
}

// Discovery tells what the target cluster is and serves; a client-go
// discovery client is one.
type Discovery interface {
	discovery.ServerVersionInterface
	discovery.ServerResourcesInterface
}

// helmOptions turns spec.render.helm into the renderer's options: the
// chart (pulled when a chartRef names it, which also names its version in
// the state's revision), the release, the values and the cluster's
// capabilities. It sets the state's namespace to the release namespace.
func (l *Loader) helmOptions(ctx context.Context, app *weirv1.Application, state *State) (*render.Helm, error) {
	spec := app.Spec.Render.Helm
	if spec == nil {
		spec = &weirv1.HelmSpec{}
	}
	values, err := inlineValues(spec.Values)
	if err != nil {
		return nil, &Error{Stage: StageRender, Err: err}
	}
	caps, err := l.capabilities()
	if err != nil {
		return nil, &Error{Stage: StageDiscovery, Err: fmt.Errorf("discover the cluster's version and APIs for Helm: %w", err)}
	}
	if spec.Namespace != "" {
		state.Namespace = spec.Namespace
	}
	h := &render.Helm{
		Chart:        spec.Chart,
		ReleaseName:  app.Name,
		Namespace:    state.Namespace,
		ValuesFiles:  spec.ValuesFiles,
		Values:       values,
		SkipCRDs:     !spec.IncludeCRDsOrDefault(),
		Capabilities: caps,
	}
	if spec.ReleaseName != "" {
		h.ReleaseName = spec.ReleaseName
	}
	if spec.ChartRef != nil {
		chart, err := l.pullChart(ctx, app, spec.ChartRef)
		if err != nil {
			return nil, err
		}
		h.Archive = chart.Path
		state.Artifact.Revision += fmt.Sprintf(", chart %s@%s", chart.Name, chart.Version)
	}
	return h, nil
}

// pullChart pulls the chart ref names, with the credentials of its Secret.
func (l *Loader) pullChart(ctx context.Context, app *weirv1.Application, ref *weirv1.HelmChartRef) (helmrepo.Chart, error) {
	if l.Charts == nil {
		return helmrepo.Chart{}, &Error{Stage: StageFetch, Err: errors.New("charts from chart repositories are not enabled")}
	}
	d, err := l.secretData(ctx, app, ref.SecretRef, "spec.render.helm.chartRef.secretRef")
	if err != nil {
		return helmrepo.Chart{}, &Error{Stage: StageCredentials, Err: err}
	}
	chart, err := l.Charts.Pull(ctx, helmrepo.Ref{
		Repository: ref.Repository,
		Name:       ref.Name,
		Version:    ref.Version,
		PlainHTTP:  ref.PlainHTTP,
	}, helmrepo.Credentials{Username: string(d["username"]), Password: string(d["password"])})
	if err != nil {
		return helmrepo.Chart{}, &Error{Stage: StageFetch, Err: err}
	}
	return chart, nil
}

// capabilities asks the cluster for its version and the API versions and
// kinds it serves.
func (l *Loader) capabilities() (render.Capabilities, error) {
	if l.Discovery == nil {
		return render.Capabilities{}, nil
	}
	version, err := l.Discovery.ServerVersion()
	if err != nil {
		return render.Capabilities{}, err
	}
	apis, err := action.GetVersionSet(l.Discovery)
	if err != nil {
		return render.Capabilities{}, err
	}
	return render.Capabilities{KubeVersion: version.GitVersion, APIVersions: apis}, nil
}

// inlineValues decodes spec.render.helm.values.
func inlineValues(v *apiextensionsv1.JSON) (map[string]any, error) {
	if v == nil || len(v.Raw) == 0 {
		return nil, nil
	}
	var values map[string]any
	if err := json.Unmarshal(v.Raw, &values); err != nil {
		return nil, fmt.Errorf("spec.render.helm.values: %w", err)
	}
	return values, nil
}
