package imageupdate

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/imagescan"
	"weir.dev/weir/internal/imagewrite"
	"weir.dev/weir/internal/source"
)

// Reasons an update fails, for the ImageUpdate's Ready condition.
const (
	ReasonPolicyInvalid = "PolicyInvalid"
	ReasonSecretFailed  = "SecretFailed"
	ReasonScanFailed    = "ScanFailed"
	ReasonNoTag         = "NoMatchingTag"
	ReasonCommitFailed  = "CommitFailed"
)

// Error is an update that failed, with the reason to show.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Committer pushes commits of edited files (gitwrite.Reverter).
type Committer interface {
	Commit(ctx context.Context, req gitwrite.CommitRequest) (string, error)
}

// CredentialReader reads an Application's Git credentials and the key
// that signs weir's commits, nil when it has none (desired.Loader).
type CredentialReader interface {
	Credentials(ctx context.Context, app *weirv1.Application) (source.Credentials, error)
	SigningKey(ctx context.Context, app *weirv1.Application) ([]byte, error)
}

// Updater carries out ImageUpdates.
type Updater struct {
	// Secrets reads the pull and CA Secrets.
	Secrets client.Reader
	// Git pushes the commits.
	Git Committer
	// Credentials of the Applications' repositories.
	Credentials CredentialReader
	// Limits bound each scan.
	Limits imagescan.Limits
}

// Result is what an update did.
type Result struct {
	// Image is the selected image, repository:tag.
	Image string
	// Commit is the commit pushed, empty when Git already said Image.
	Commit string
}

// Update scans iu's repository, selects the latest tag, and commits it to
// app's repository. Its error is an *Error.
func (u *Updater) Update(ctx context.Context, iu *weirv1.ImageUpdate, app *weirv1.Application) (Result, error) {
	image, err := u.latest(ctx, iu)
	if err != nil {
		return Result{}, err
	}
	res := Result{Image: image.Ref()}
	req, err := u.commitRequest(ctx, iu, app, image)
	if err != nil {
		return res, &Error{Reason: ReasonCommitFailed, Err: err}
	}
	h, err := u.Git.Commit(ctx, req)
	switch {
	case errors.Is(err, gitwrite.ErrNothingToCommit):
		return res, nil
	case err != nil:
		return res, &Error{Reason: ReasonCommitFailed, Err: err}
	}
	res.Commit = h
	return res, nil
}

// latest scans the repository and selects its latest tag.
func (u *Updater) latest(ctx context.Context, iu *weirv1.ImageUpdate) (imagewrite.Image, error) {
	sel, err := imagescan.Compile(Policy(iu.Spec))
	if err != nil {
		return imagewrite.Image{}, &Error{Reason: ReasonPolicyInvalid, Err: fmt.Errorf("spec.policy of ImageUpdate %s/%s: %w", iu.Namespace, iu.Name, err)}
	}
	repo, err := u.repository(ctx, iu)
	if err != nil {
		return imagewrite.Image{}, &Error{Reason: ReasonSecretFailed, Err: err}
	}
	tags, err := imagescan.ListTags(ctx, repo, u.Limits)
	if err != nil {
		return imagewrite.Image{}, &Error{Reason: ReasonScanFailed, Err: err}
	}
	tag, err := sel.Select(tags)
	if err != nil {
		return imagewrite.Image{}, &Error{Reason: ReasonNoTag, Err: fmt.Errorf("%s: %w among %d tags", iu.Spec.Image, err, len(tags))}
	}
	return imagewrite.Image{Namespace: iu.Namespace, Name: iu.Name, Repository: iu.Spec.Image, Tag: tag}, nil
}

// Policy is the imagescan policy of spec.
func Policy(spec weirv1.ImageUpdateSpec) imagescan.Policy {
	var p imagescan.Policy
	if f := spec.FilterTags; f != nil {
		p.Filter, p.Extract = f.Pattern, f.Extract
	}
	switch pol := spec.Policy; {
	case pol.SemVer != nil:
		p.Semver = pol.SemVer.Range
	case pol.Numerical != nil:
		p.Numerical = orderOf(pol.Numerical)
	case pol.Alphabetical != nil:
		p.Alphabetical = orderOf(pol.Alphabetical)
	}
	return p
}

func orderOf(o *weirv1.OrderPolicy) imagescan.Order {
	if o.Order == "" {
		return imagescan.Ascending
	}
	return imagescan.Order(o.Order)
}

// repository is where iu scans, with its Secrets' contents.
func (u *Updater) repository(ctx context.Context, iu *weirv1.ImageUpdate) (imagescan.Repository, error) {
	repo := imagescan.Repository{Name: iu.Spec.Image, Insecure: iu.Spec.Insecure}
	var err error
	if ref := iu.Spec.SecretRef; ref != nil {
		repo.DockerConfigJSON, err = u.secretKey(ctx, iu.Namespace, ref.Name, corev1.DockerConfigJsonKey, "spec.secretRef")
		if err != nil {
			return repo, err
		}
	}
	if ref := iu.Spec.CertSecretRef; ref != nil {
		repo.CA, err = u.secretKey(ctx, iu.Namespace, ref.Name, "ca.crt", "spec.certSecretRef")
	}
	return repo, err
}

// secretKey reads one key of a Secret; errors name the Secret and the
// field that names it, never its content.
func (u *Updater) secretKey(ctx context.Context, ns, name, key, field string) ([]byte, error) {
	s := &corev1.Secret{}
	if err := u.Secrets.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		return nil, fmt.Errorf("read Secret %s/%s named by %s: %w", ns, name, field, err)
	}
	v, ok := s.Data[key]
	if !ok {
		return nil, fmt.Errorf("Secret %s/%s named by %s has no %s", ns, name, field, key)
	}
	return v, nil
}

// commitRequest asks to write image into app's repository.
func (u *Updater) commitRequest(ctx context.Context, iu *weirv1.ImageUpdate, app *weirv1.Application, image imagewrite.Image) (gitwrite.CommitRequest, error) {
	creds, err := u.Credentials.Credentials(ctx, app)
	if err != nil {
		return gitwrite.CommitRequest{}, err
	}
	signer, err := Signer(ctx, u.Credentials, app)
	if err != nil {
		return gitwrite.CommitRequest{}, err
	}
	req := gitwrite.CommitRequest{
		URL: app.Spec.Source.URL, Branch: app.Spec.Source.Ref.BranchOrDefault(), PushBranch: iu.Spec.Update.PushBranch,
		Credentials: creds, Path: iu.Spec.Update.Path, Editor: imagewrite.Editor{Images: []imagewrite.Image{image}},
		Message: fmt.Sprintf("Update %s to %s\n\nweir's ImageUpdate %s/%s selected tag %s of %s.\n",
			shortName(iu.Spec.Image), image.Tag, iu.Namespace, iu.Name, image.Tag, iu.Spec.Image),
		Signer: signer,
	}
	if req.Path == "" {
		req.Path = app.Spec.Source.Path
	}
	if a := iu.Spec.Update.Author; a != nil {
		req.Author = gitwrite.Signature{Name: a.Name, Email: a.Email}
	}
	return req, nil
}

// Signer is the key that signs weir's commits to app's repository, nil
// when the Application names none.
func Signer(ctx context.Context, creds CredentialReader, app *weirv1.Application) (gitwrite.Signer, error) {
	key, err := creds.SigningKey(ctx, app)
	if err != nil || key == nil {
		return nil, err
	}
	signer, err := gitwrite.ParseSigningKey(key)
	if err != nil {
		return nil, fmt.Errorf("the signing key of Secret %s/%s named by spec.source.signingSecretRef: %w", app.Namespace, app.Spec.Source.SigningSecretRef.Name, err)
	}
	return signer, nil
}

// shortName is the last part of a repository's name, "web" for
// "registry.example.com/team/web".
func shortName(repo string) string {
	for i := len(repo) - 1; i >= 0; i-- {
		if repo[i] == '/' {
			return repo[i+1:]
		}
	}
	return repo
}
