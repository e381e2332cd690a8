// Package desired turns an Application's spec into the objects Git declares
// for it: credentials from the Application's Secrets, the source stage to
// resolve and check out the revision (and pull a Helm chart from its
// repository), its signatures checked against the keys of the Secret that
// spec.source.verify names, the render stage to read the objects, with the
// target cluster's version and APIs for Helm's .Capabilities, decrypting
// SOPS-encrypted files with the keys of the Secret that spec.decryption
// names. The controller syncs what it returns; `weir diff` compares it with
// the cluster.
package desired

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/metrics"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/verify"
)

// Fetcher resolves a ref, from refs listed since a time (shared with other
// Applications of the repository), and checks out its commit.
type Fetcher interface {
	FetchSince(ctx context.Context, url string, ref weirv1.GitRef, creds source.Credentials, since time.Time) (source.Artifact, error)
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
	// Secrets holds the values of the Objects' Secrets and every value
	// decrypted for them, to keep out of the messages of every later stage
	// (the API server quotes what it refuses); nil when nothing rendered.
	Secrets *decrypt.Redactor
	// Signers says which trusted keys signed the revision, as
	// "commit <hash> by SSH key SHA256:… of ada@example.com"; empty when
	// spec.source.verify is not set.
	Signers string
}

// Git credentials are read one Secret at a time, never listed or watched.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Renderer renders the path of a checkout, decrypting with dec: package
// isolate's, in a child process.
type Renderer interface {
	Render(ctx context.Context, root, path string, opts render.Options, dec *decrypt.Decryptor) ([]*unstructured.Unstructured, error)
}

// Loader loads desired state. Secrets are read with Reader; Metrics, when
// set, records every fetch.
type Loader struct {
	Reader   client.Reader
	Fetcher  Fetcher
	Renderer Renderer
	Metrics  *metrics.Recorder
	// Charts pulls the Helm charts that a spec.render.helm.chartRef names;
	// nil refuses them.
	Charts Charts
	// Discovery describes the target cluster to Helm charts
	// (.Capabilities); nil leaves Helm's defaults.
	Discovery Discovery
	// Renders, when set, keeps recent renders, so that a load at the
	// inputs of an earlier one does not render again.
	Renders *RenderCache
}

// Load fetches the Application's revision and renders its path.
func (l *Loader) Load(ctx context.Context, app *weirv1.Application) (State, error) {
	creds, err := l.Credentials(ctx, app)
	if err != nil {
		return State{}, err
	}
	src := app.Spec.Source
	started := time.Now()
	artifact, err := l.Fetcher.FetchSince(ctx, src.URL, src.Ref, creds, listedSince(app, started))
	l.Metrics.ObserveFetch(time.Since(started), err)
	l.Metrics.ObservePhase(metrics.PhaseResolve, time.Since(started))
	if err != nil {
		return State{}, &Error{Stage: StageFetch, Err: err}
	}
	state := State{Artifact: artifact, Namespace: app.DestinationNamespace()}
	if state.Signers, err = l.verify(ctx, app, artifact); err != nil {
		return state, err
	}
	dec, keys, err := l.decryptor(ctx, app)
	if err != nil {
		return state, err
	}
	opts := render.Options{Type: app.Spec.Render.Type, AllowEmpty: app.Spec.Sync.AllowEmpty}
	if opts.Type == render.TypeAuto {
		if opts.Type, err = render.Detect(artifact.Dir, src.Path); err != nil {
			return state, &Error{Stage: StageRender, Err: fmt.Errorf("revision %s: %w", artifact.Revision, err)}
		}
	}
	if opts.Type == render.TypeHelm {
		if opts.Helm, err = l.helmOptions(ctx, app, &state); err != nil {
			return state, err
		}
	}
	inputs := renderInputs{URL: src.URL, Revision: state.Artifact.Revision, Commit: artifact.Commit, Path: src.Path,
		Type: opts.Type, Empty: opts.AllowEmpty, Helm: opts.Helm, Keys: keys}
	state.Objects, state.Secrets, err = l.render(ctx, artifact, src.Path, opts, dec, inputs.key())
	return state, err
}

// render renders path in the checkout of artifact, or takes the objects
// an earlier render at the same inputs (key) produced.
func (l *Loader) render(ctx context.Context, artifact source.Artifact, path string, opts render.Options, dec *decrypt.Decryptor, key string) ([]*unstructured.Unstructured, *decrypt.Redactor, error) {
	if objs, secrets, ok := l.Renders.get(key); ok {
		return objs, secrets, nil
	}
	rendering := time.Now()
	objs, err := l.Renderer.Render(ctx, artifact.Dir, path, opts, dec)
	l.Metrics.ObservePhase(metrics.PhaseRender, time.Since(rendering))
	if err != nil {
		return nil, nil, renderError(artifact.Revision, dec, err)
	}
	secrets := secretsOf(dec, objs)
	l.Renders.put(key, objs, secrets)
	return objs, secrets, nil
}

// listedSince is how old a listing of the Application's repository may be
// at now: half its interval, so that Applications of one repository share
// about two listings per interval; none for a sync asked for (`weir sync`)
// and not yet handled; none older than its last refresh request (a push
// received on a standby replica).
func listedSince(app *weirv1.Application, now time.Time) time.Time {
	if app.Annotations[weirv1.RequestedSyncAnnotation] != app.Status.LastHandledSyncRequest {
		return now
	}
	since := now.Add(-app.Spec.Sync.IntervalOrDefault() / 2)
	requested, err := time.Parse(time.RFC3339Nano, app.Annotations[weirv1.RefreshRequestedAnnotation])
	if err == nil && requested.After(since) {
		return requested
	}
	return since
}

// verify checks the signatures of the revision that spec.source.verify
// asks for, before anything of it is read, and says who signed it.
func (l *Loader) verify(ctx context.Context, app *weirv1.Application, a source.Artifact) (string, error) {
	v := app.Spec.Source.Verify
	if v == nil {
		return "", nil
	}
	const field = "spec.source.verify.secretRef"
	data, err := l.secretData(ctx, app, &v.SecretRef, field)
	if err != nil {
		return "", &Error{Stage: StageVerificationKeys, Err: err}
	}
	keys, err := verify.ParseKeys(data)
	if err != nil {
		return "", &Error{Stage: StageVerificationKeys, Err: fmt.Errorf("Secret %s/%s named by %s: %w", app.Namespace, v.SecretRef.Name, field, err)}
	}
	signers, err := keys.Verify(a, v)
	if err != nil {
		return "", &Error{Stage: StageVerify, Err: fmt.Errorf("revision %s is refused: %w (trusted keys: Secret %s/%s)", a.Revision, err, app.Namespace, v.SecretRef.Name)}
	}
	return signers, nil
}

// revisionPattern reads a Revision: the branch or tag, if any, and the
// commit.
var revisionPattern = regexp.MustCompile(`^(?:([^@]+)@)?sha1:([0-9a-f]{40})`)

// LoadApplied loads again the revision the Application applied last
// (status.lastAppliedRevision), verified and rendered as Load does its ref,
// so that weir keeps that revision, and heals its drift, while a newer one
// is refused. A branch's revision is loaded by its commit, a tag's by the
// tag, as its signature may be the tag's. It fails when the revision names
// no commit, or when what loads is no longer that revision (a tag moved to
// another commit, a chart range that now picks another version).
func (l *Loader) LoadApplied(ctx context.Context, app *weirv1.Application) (State, error) {
	rev := app.Status.LastAppliedRevision
	m := revisionPattern.FindStringSubmatch(rev)
	if m == nil {
		return State{}, fmt.Errorf("the last applied revision %q names no commit", rev)
	}
	name, ref := m[1], weirv1.GitRef{Commit: m[2]}
	if src := app.Spec.Source.Ref; src.Tag != "" || src.SemVer != "" {
		ref = weirv1.GitRef{Tag: name}
	}
	pinned := app.DeepCopy()
	pinned.Spec.Source.Ref = ref
	state, err := l.Load(ctx, pinned)
	if err != nil {
		return state, err
	}
	if ref.Commit != "" && name != "" {
		state.Artifact.Revision = name + "@" + state.Artifact.Revision
	}
	if state.Artifact.Revision != rev {
		return state, fmt.Errorf("the last applied revision %s loads as %s now", rev, state.Artifact.Revision)
	}
	return state, nil
}

// secretsOf returns the values decrypted by dec and those of every Secret
// among objs, as written in Git (stringData) or applied (data, and what
// its base64 encodes).
func secretsOf(dec *decrypt.Decryptor, objs []*unstructured.Unstructured) *decrypt.Redactor {
	secrets := dec.Secrets()
	for _, obj := range objs {
		if obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			values, _ := obj.Object[field].(map[string]any)
			for _, v := range values {
				secrets.Add(fmt.Sprint(v))
			}
		}
	}
	return secrets
}

// renderError is a failed render of revision: a file that could not be
// decrypted, or any other render failure, with the decrypted values
// redacted from its message.
func renderError(revision string, dec *decrypt.Decryptor, err error) error {
	stage := StageRender
	if de := (*decrypt.Error)(nil); errors.As(err, &de) {
		stage = StageDecrypt
	}
	return &Error{Stage: stage, Err: fmt.Errorf("revision %s: %w", revision, dec.Redact(err))}
}

// Credentials reads the Git credentials in the Secret named by
// spec.source.secretRef; none when it names none.
func (l *Loader) Credentials(ctx context.Context, app *weirv1.Application) (source.Credentials, error) {
	creds, err := l.GitCredentials(ctx, app.Namespace, app.Spec.Source.SecretRef, "spec.source.secretRef")
	if err != nil {
		return source.Credentials{}, &Error{Stage: StageCredentials, Err: err}
	}
	return creds, nil
}

// GitCredentials reads the Git credentials in the Secret that ref, the
// field of an object of namespace, names; none when ref is nil.
func (l *Loader) GitCredentials(ctx context.Context, namespace string, ref *weirv1.LocalObjectReference, field string) (source.Credentials, error) {
	d, err := l.secretIn(ctx, namespace, ref, field)
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

// SigningKeyName is the key of the Secret named by
// spec.source.signingSecretRef that holds the private key.
const SigningKeyName = "signing_key"

// SigningKey reads the private key that signs the commits weir pushes for
// the Application: the signing_key of the Secret that
// spec.source.signingSecretRef names; nil when it names none.
func (l *Loader) SigningKey(ctx context.Context, app *weirv1.Application) ([]byte, error) {
	const field = "spec.source.signingSecretRef"
	ref := app.Spec.Source.SigningSecretRef
	data, err := l.secretData(ctx, app, ref, field)
	if err != nil || ref == nil {
		return nil, err
	}
	key, ok := data[SigningKeyName]
	if !ok {
		return nil, fmt.Errorf("Secret %s/%s named by %s has no %s", app.Namespace, ref.Name, field, SigningKeyName)
	}
	return key, nil
}

// decryptor returns the Decryptor of the Application: with the keys of the
// Secret named by spec.decryption, or without keys, so that an encrypted
// file fails the render rather than reach the cluster encrypted. It also
// returns a digest of the keys' Secret ("" for none).
func (l *Loader) decryptor(ctx context.Context, app *weirv1.Application) (*decrypt.Decryptor, string, error) {
	d := app.Spec.Decryption
	if d == nil {
		return decrypt.New(nil), "", nil
	}
	const field = "spec.decryption.secretRef"
	data, err := l.secretData(ctx, app, &d.SecretRef, field)
	if err != nil {
		return nil, "", &Error{Stage: StageDecryptionKeys, Err: err}
	}
	keys, err := decrypt.ParseKeys(data)
	if err != nil {
		return nil, "", &Error{Stage: StageDecryptionKeys, Err: fmt.Errorf("Secret %s/%s named by %s: %w", app.Namespace, d.SecretRef.Name, field, err)}
	}
	return decrypt.New(keys), keysDigest(data), nil
}

// secretData reads the Secret that the field ref of the Application names;
// no ref yields no data.
func (l *Loader) secretData(ctx context.Context, app *weirv1.Application, ref *weirv1.LocalObjectReference, field string) (map[string][]byte, error) {
	return l.secretIn(ctx, app.Namespace, ref, field)
}

// secretIn reads the Secret of namespace that the field ref names; no ref
// yields no data.
func (l *Loader) secretIn(ctx context.Context, namespace string, ref *weirv1.LocalObjectReference, field string) (map[string][]byte, error) {
	if ref == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := l.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, secret); err != nil {
		return nil, fmt.Errorf("read Secret %s/%s named by %s: %w", namespace, ref.Name, field, err)
	}
	return secret.Data, nil
}

// Stage names the part of loading that failed.
type Stage string

// Stages of loading.
const (
	StageCredentials Stage = "Credentials"
	StageFetch       Stage = "Fetch"
	// StageDecryptionKeys is reading the keys of spec.decryption.
	StageDecryptionKeys Stage = "DecryptionKeys"
	// StageDecrypt is a file of the revision that could not be decrypted.
	StageDecrypt   Stage = "Decrypt"
	StageDiscovery Stage = "Discovery"
	// StageVerificationKeys is reading the keys of spec.source.verify.
	StageVerificationKeys Stage = "VerificationKeys"
	// StageVerify is a revision whose signatures do not verify.
	StageVerify Stage = "Verify"
	StageRender Stage = "Render"
)

// Error is a loading failure and the stage it happened in.
type Error struct {
	Stage Stage
	Err   error
}

// Error is the underlying error's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
