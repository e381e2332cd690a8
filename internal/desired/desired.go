// Package desired turns an Application's spec into the objects Git declares
// for it: credentials from the Application's Secrets, the source stage to
// resolve and check out the revision (and pull a Helm chart from its
// repository), the render stage to read the objects, with the target
// cluster's version and APIs for Helm's .Capabilities.
// The controller syncs what it returns; `weir diff` compares it with the
// cluster.
package desired

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source"
)

// Fetcher resolves a ref and checks out its commit.
type Fetcher interface {
	Fetch(ctx context.Context, url string, ref weirv1.GitRef, creds source.Credentials) (source.Artifact, error)
}

// State is the desired state of an Application at one revision.
type State struct {
	// Artifact is the checked-out commit. For a Helm chart pulled from a
	// chart repository, its Revision also names the chart's version, as
	// "main@sha1:<hex>, chart web@1.2.0", so that a new version in a
	// range is a new revision.
	Artifact source.Artifact
	// Objects are the rendered objects, not yet normalised for the cluster.
	Objects []*unstructured.Unstructured
	// Namespace is where namespaced objects that name none go: the Helm
	// release namespace for a chart, else the destination namespace.
	Namespace string
}

// Loader loads desired state. Secrets are read with Reader.
type Loader struct {
	Reader  client.Reader
	Fetcher Fetcher
	// Charts pulls the Helm charts that a spec.render.helm.chartRef names;
	// nil refuses them.
	Charts Charts
	// Discovery describes the target cluster to Helm charts
	// (.Capabilities); nil leaves Helm's defaults.
	Discovery Discovery
}

// Load fetches the Application's revision and renders its path.
func (l *Loader) Load(ctx context.Context, app *weirv1.Application) (State, error) {
	creds, err := l.credentials(ctx, app)
	if err != nil {
		return State{}, err
	}
	src := app.Spec.Source
	artifact, err := l.Fetcher.Fetch(ctx, src.URL, src.Ref, creds)
	if err != nil {
		return State{}, &Error{Stage: StageFetch, Err: err}
	}
	state := State{Artifact: artifact, Namespace: app.DestinationNamespace()}
	opts := render.Options{Type: app.Spec.Render.Type}
	if opts.Type == render.TypeHelm {
		if opts.Helm, err = l.helmOptions(ctx, app, &state); err != nil {
			return state, err
		}
	}
	objs, err := render.Render(ctx, artifact.Dir, src.Path, opts)
	if err != nil {
		return state, &Error{Stage: StageRender, Err: fmt.Errorf("revision %s: %w", state.Artifact.Revision, err)}
	}
	state.Objects = objs
	return state, nil
}

// credentials reads the Secret named by spec.source.secretRef.
func (l *Loader) credentials(ctx context.Context, app *weirv1.Application) (source.Credentials, error) {
	d, err := l.secretData(ctx, app, app.Spec.Source.SecretRef, "spec.source.secretRef")
	if err != nil {
		return source.Credentials{}, err
	}
	return source.Credentials{
		Username:   string(d["username"]),
		Password:   string(d["password"]),
		Identity:   d["identity"],
		KnownHosts: d["known_hosts"],
	}, nil
}

// secretData reads the Secret that the field ref of the Application names;
// no ref yields no data.
func (l *Loader) secretData(ctx context.Context, app *weirv1.Application, ref *weirv1.LocalObjectReference, field string) (map[string][]byte, error) {
	if ref == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := l.Reader.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}, secret); err != nil {
		return nil, &Error{Stage: StageCredentials, Err: fmt.Errorf("read Secret %s/%s named by %s: %w", app.Namespace, ref.Name, field, err)}
	}
	return secret.Data, nil
}

// Stage names the part of loading that failed.
type Stage string

// Stages of loading.
const (
	StageCredentials Stage = "Credentials"
	StageFetch       Stage = "Fetch"
	StageDiscovery   Stage = "Discovery"
	StageRender      Stage = "Render"
)

// Error is a loading failure and the stage it happened in.
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
