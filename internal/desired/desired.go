// Package desired turns an Application's spec into the objects Git declares
// for it: credentials from the Application's Secret, the source stage to
// resolve and check out the revision, the render stage to read the objects.
// The controller syncs what it returns; `weir diff` compares it with the
// cluster.
package desired

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source"
)

// Fetcher resolves a ref and checks out its commit.
type Fetcher interface {
	Fetch(ctx context.Context, url string, ref weirv1.GitRef, creds source.Credentials) (source.Artifact, error)
}

// State is the desired state of an Application at one revision.
type State struct {
	// Artifact is the checked-out commit.
	Artifact source.Artifact
	// Objects are the rendered objects, not yet normalised for the cluster.
	Objects []*unstructured.Unstructured
}

// Git credentials are read one Secret at a time, never listed or watched.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Loader loads desired state. Secrets are read with Reader; Metrics, when
// set, records every fetch.
type Loader struct {
	Reader  client.Reader
	Fetcher Fetcher
	Metrics *metrics.Recorder
}

// Load fetches the Application's revision and renders its path.
func (l *Loader) Load(ctx context.Context, app *weirv1.Application) (State, error) {
	creds, err := l.credentials(ctx, app)
	if err != nil {
		return State{}, err
	}
	src := app.Spec.Source
	started := time.Now()
	artifact, err := l.Fetcher.Fetch(ctx, src.URL, src.Ref, creds)
	l.Metrics.ObserveFetch(time.Since(started), err)
	if err != nil {
		return State{}, &Error{Stage: StageFetch, Err: err}
	}
	objs, err := render.Render(ctx, artifact.Dir, src.Path, render.Options{Type: app.Spec.Render.Type})
	if err != nil {
		return State{Artifact: artifact}, &Error{Stage: StageRender, Err: fmt.Errorf("revision %s: %w", artifact.Revision, err)}
	}
	return State{Artifact: artifact, Objects: objs}, nil
}

// credentials reads the Secret named by spec.source.secretRef.
func (l *Loader) credentials(ctx context.Context, app *weirv1.Application) (source.Credentials, error) {
	ref := app.Spec.Source.SecretRef
	if ref == nil {
		return source.Credentials{}, nil
	}
	secret := &corev1.Secret{}
	if err := l.Reader.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}, secret); err != nil {
		return source.Credentials{}, &Error{Stage: StageCredentials, Err: fmt.Errorf("read Secret %s/%s named by spec.source.secretRef: %w", app.Namespace, ref.Name, err)}
	}
	d := secret.Data
	return source.Credentials{
		Username:   string(d["username"]),
		Password:   string(d["password"]),
		Identity:   d["identity"],
		KnownHosts: d["known_hosts"],
	}, nil
}

// Stage names the part of loading that failed.
type Stage string

// Stages of loading.
const (
	StageCredentials Stage = "Credentials"
	StageFetch       Stage = "Fetch"
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
