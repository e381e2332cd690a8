package delivery

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
)

// idle is a Rollout with no copy: the stable Deployment runs Git's
// template. A rollout that was running when Git went back to the stable
// template is ended, and the routing is made ready for the next one.
func (d *Driver) idle(ctx context.Context, w *world) (Result, error) {
	s := &w.ro.Status
	if running(s.Phase) {
		if err := d.resetTraffic(ctx, w); err != nil {
			return Result{}, err
		}
		d.stopRuns(ctx, w.ro)
		d.event(w.ro, corev1.EventTypeNormal, ReasonIdle, fmt.Sprintf("Release of revision %s ended: Git's template is the stable one", s.Revision))
	}
	if err := d.ensureRouting(ctx, w); err != nil {
		return Result{}, err
	}
	d.dropRequests(w.ro)
	if !resting(s, w.stableHash()) {
		d.settled(w.ro, true, ReasonIdle, fmt.Sprintf("Deployment %s/%s runs the template in Git", w.stable.Namespace, w.stable.Name))
	}
	s.Phase, s.StableHash, s.CanaryWeight = v1alpha1.RolloutIdle, w.stableHash(), 0
	s.StepStartedAt, s.PauseStartedAt, s.ScaleDownAt = nil, nil, nil
	return Result{}, nil
}

// resting reports whether s is already Idle and Ready on the stable
// template hash: its conditions then stay as they are, so that a promoted
// Rollout says Promoted until the next release.
func resting(s *v1alpha1.RolloutStatus, stableHash string) bool {
	return s.Phase == v1alpha1.RolloutIdle && s.StableHash == stableHash &&
		apimeta.IsStatusConditionTrue(s.Conditions, v1alpha1.ReadyCondition)
}

// begin starts the release of the copy's template, ending the release it
// replaces, if any.
func (d *Driver) begin(ctx context.Context, w *world) error {
	s := &w.ro.Status
	if running(s.Phase) {
		d.stopRuns(ctx, w.ro)
		if err := d.resetTraffic(ctx, w); err != nil {
			return err
		}
	}
	now := metav1.NewTime(d.now())
	s.CanaryHash = w.copyHash()
	s.StableHash = w.stableHash()
	s.Revision = w.copy.Annotations[v1alpha1.RevisionAnnotation]
	s.PreviousRevision = w.copy.Annotations[v1alpha1.PreviousRevisionAnnotation]
	s.Phase, s.CurrentStep, s.CanaryWeight = v1alpha1.RolloutProgressing, 0, 0
	s.Analyses, s.PausedByHand = nil, false
	s.StepStartedAt, s.PauseStartedAt, s.ScaleDownAt = &now, nil, nil
	msg := fmt.Sprintf("Releasing revision %s to Deployment %s/%s", s.Revision, w.stable.Namespace, w.stable.Name)
	d.progressing(w.ro, msg)
	d.event(w.ro, corev1.EventTypeNormal, ReasonProgressing, msg)
	return nil
}

// abort ends the release: all traffic back to stable, the copy scaled to
// zero, the template quarantined. why names the check that failed and the
// value it measured; a revert in Git, when asked for, follows in the next
// Advance, once this one is recorded.
func (d *Driver) abort(ctx context.Context, w *world, reason, why string) (Result, error) {
	s := &w.ro.Status
	d.stopRuns(ctx, w.ro)
	if err := d.resetTraffic(ctx, w); err != nil {
		return Result{}, err
	}
	if err := d.scale(ctx, w.copy, 0); err != nil {
		return Result{}, err
	}
	s.FailedRevisions = append(s.FailedRevisions, v1alpha1.FailedRevision{
		Revision: s.Revision, TemplateHash: s.CanaryHash, Reason: why, FailedAt: metav1.NewTime(d.now()),
	})
	if n := len(s.FailedRevisions); n > v1alpha1.MaxFailedRevisions {
		s.FailedRevisions = s.FailedRevisions[n-v1alpha1.MaxFailedRevisions:]
	}
	s.Phase, s.CanaryWeight = v1alpha1.RolloutAborted, 0
	msg := fmt.Sprintf("Revision %s failed and was rolled back: %s", s.Revision, why)
	d.settled(w.ro, false, reason, msg)
	d.event(w.ro, corev1.EventTypeWarning, reason, msg)
	d.eventOnApplication(ctx, w.ro, corev1.EventTypeWarning, reason, fmt.Sprintf("Rollout %s: %s", w.ro.Name, msg))
	return Result{RequeueAfter: d.poll()}, nil
}

// keepAborted keeps a quarantined template off the traffic and, when the
// Rollout says so, has Git revert it: again after a failure that can
// pass, waiting longer each time.
func (d *Driver) keepAborted(ctx context.Context, w *world, f *v1alpha1.FailedRevision) (Result, error) {
	s := &w.ro.Status
	s.Phase = v1alpha1.RolloutAborted
	d.dropRequests(w.ro, v1alpha1.RetryAnnotation)
	if err := d.scale(ctx, w.copy, 0); err != nil {
		return Result{}, err
	}
	if !w.ro.Spec.OnFailure.RevertInGit || f.RevertCommit != "" || f.RevertGaveUp {
		return Result{}, nil
	}
	if wait := revertWait(f, d.now()); wait > 0 {
		return Result{RequeueAfter: wait}, nil
	}
	commit, err := d.revert(ctx, w.ro, f)
	now := metav1.NewTime(d.now())
	f.RevertAttempts++
	f.LastRevertAttempt = &now
	if err != nil {
		return d.revertFailed(w.ro, f, err), nil
	}
	f.RevertCommit, f.RevertError = commit, ""
	s.Message = fmt.Sprintf("Revision %s failed (%s); reverted in Git by commit %s", f.Revision, f.Reason, commit)
	d.event(w.ro, corev1.EventTypeNormal, ReasonReverted, s.Message)
	d.eventOnApplication(ctx, w.ro, corev1.EventTypeNormal, ReasonReverted, fmt.Sprintf("Rollout %s: %s", w.ro.Name, s.Message))
	return Result{SyncApplication: true}, nil
}

// revertFailed records a failed attempt to revert f and says when the
// next one comes, if any.
func (d *Driver) revertFailed(ro *v1alpha1.Rollout, f *v1alpha1.FailedRevision, err error) Result {
	f.RevertError = err.Error()
	f.RevertGaveUp = cannotPass(err) || f.RevertAttempts >= v1alpha1.MaxRevertAttempts
	next, res := "weir gave up: revert it by hand", Result{}
	if !f.RevertGaveUp {
		res.RequeueAfter = revertBackoff(f.RevertAttempts)
		next = fmt.Sprintf("attempt %d of %d, the next in %s", f.RevertAttempts, v1alpha1.MaxRevertAttempts, res.RequeueAfter)
	}
	ro.Status.Message = fmt.Sprintf("Revision %s failed (%s); the revert in Git failed (%s): %s", f.Revision, f.Reason, next, err)
	if errors.Is(err, errNotApplied) {
		d.setCondition(ro, v1alpha1.ReadyCondition, metav1.ConditionFalse, ReasonNotApplied, ro.Status.Message)
	}
	d.event(ro, corev1.EventTypeWarning, ReasonRevertFailed, ro.Status.Message)
	return res
}

// revertRetryBase is the wait after the first failed revert; it doubles
// after each one.
const revertRetryBase = 5 * time.Second

// revertBackoff is the wait after the nth failed attempt: 5s, 10s, 20s...
func revertBackoff(attempts int32) time.Duration {
	return revertRetryBase << max(attempts-1, 0)
}

// revertWait is how long, at now, until the next attempt to revert f.
func revertWait(f *v1alpha1.FailedRevision, now time.Time) time.Duration {
	if f.LastRevertAttempt == nil {
		return 0
	}
	return f.LastRevertAttempt.Add(revertBackoff(f.RevertAttempts)).Sub(now)
}

// errCannotRevert marks a revert that no later attempt can make: the
// Application or the revisions do not allow it.
var errCannotRevert = errors.New("cannot revert")

// cannotPass reports whether a failure to revert would fail the same way
// again: a conflict, changes already reverted, or errCannotRevert.
func cannotPass(err error) bool {
	var conflict *gitwrite.ConflictError
	return errors.As(err, &conflict) || errors.Is(err, gitwrite.ErrAlreadyReverted) || errors.Is(err, errCannotRevert)
}

// revert pushes a commit undoing the commits after the revision applied
// before the failed one, up to it, to the branch the Application tracks.
func (d *Driver) revert(ctx context.Context, ro *v1alpha1.Rollout, f *v1alpha1.FailedRevision) (string, error) {
	app, err := d.application(ctx, ro)
	if err != nil {
		return "", err
	}
	ref := app.Spec.Source.Ref
	if ref.Tag != "" || ref.SemVer != "" || ref.Commit != "" {
		return "", fmt.Errorf("%w: Application %s/%s deploys %s, not a branch", errCannotRevert, app.Namespace, app.Name, ref)
	}
	good, bad := commitOf(ro.Status.PreviousRevision), commitOf(f.Revision)
	if good == "" || bad == "" {
		return "", fmt.Errorf("%w: no commits in revisions %q and %q", errCannotRevert, ro.Status.PreviousRevision, f.Revision)
	}
	creds, err := d.Credentials.Credentials(ctx, app)
	if err != nil {
		return "", err
	}
	signer, err := d.signer(ctx, app)
	if err != nil {
		return "", err
	}
	return d.Reverter.Revert(ctx, gitwrite.RevertRequest{
		URL: app.Spec.Source.URL, Branch: ref.BranchOrDefault(), Credentials: creds, Good: good, Bad: bad,
		Message: revertMessage(ro, f), Signer: signer,
	})
}

// signer reads the key that signs app's revert commits; nil when app names
// none.
func (d *Driver) signer(ctx context.Context, app *v1alpha1.Application) (gitwrite.Signer, error) {
	key, err := d.Credentials.SigningKey(ctx, app)
	if err != nil || key == nil {
		return nil, err
	}
	signer, err := gitwrite.ParseSigningKey(key)
	if err != nil {
		return nil, fmt.Errorf("the signing key of Secret %s/%s named by spec.source.signingSecretRef: %w", app.Namespace, app.Spec.Source.SigningSecretRef.Name, err)
	}
	return signer, nil
}

// revertMessage says what is reverted and why.
func revertMessage(ro *v1alpha1.Rollout, f *v1alpha1.FailedRevision) string {
	return fmt.Sprintf("Revert %s: Rollout %s/%s failed\n\nweir rolled back the release of Deployment %s/%s at revision %s: %s\n",
		shortCommit(commitOf(f.Revision)), ro.Namespace, ro.Name, ro.Namespace, ro.Spec.TargetRef.Name, f.Revision, f.Reason)
}

// errNotApplied marks a Rollout that names an Application which did not
// apply it.
var errNotApplied = errors.New("not applied by the Application it names")

// application reads the Application that applied ro (see
// ApplyingApplication).
func (d *Driver) application(ctx context.Context, ro *v1alpha1.Rollout) (*v1alpha1.Application, error) {
	return ApplyingApplication(ctx, d.Applications, ro)
}

// ApplyingApplication reads with c the Application that applied ro: the one
// its annotation names, provided that Application's inventory holds ro.
// Anyone who may write a Rollout can write the annotation; only the
// Application that applied a Rollout lends it its repository and
// credentials, or is woken by it.
func ApplyingApplication(ctx context.Context, c client.Reader, ro *v1alpha1.Rollout) (*v1alpha1.Application, error) {
	key, ok := ApplicationOf(ro)
	if !ok {
		return nil, fmt.Errorf("Rollout %s/%s was not applied by an Application (no %s annotation)", ro.Namespace, ro.Name, v1alpha1.ApplicationAnnotation)
	}
	app := &v1alpha1.Application{}
	if err := c.Get(ctx, key, app); err != nil {
		return nil, fmt.Errorf("read Application %s: %w", key, err)
	}
	if !AppliedBy(app, ro) {
		return nil, fmt.Errorf("%w: Rollout %s/%s names Application %s, whose inventory does not hold it; a Rollout acts only for the Application that applied it",
			errNotApplied, ro.Namespace, ro.Name, key)
	}
	return app, nil
}

// AppliedBy reports whether app's inventory holds ro: whether ro may act
// for app, whatever Application its annotation names.
func AppliedBy(app *v1alpha1.Application, ro *v1alpha1.Rollout) bool {
	want := v1alpha1.ObjectRef{Group: v1alpha1.RolloutKind.Group, Kind: v1alpha1.RolloutKind.Kind, Namespace: ro.Namespace, Name: ro.Name}
	return slices.ContainsFunc(app.Status.Inventory, func(ref v1alpha1.ObjectRef) bool { return ref.Key() == want })
}

// ApplicationOf names the Application that applied ro.
func ApplicationOf(ro client.Object) (types.NamespacedName, bool) {
	ns, name, ok := strings.Cut(ro.GetAnnotations()[v1alpha1.ApplicationAnnotation], "/")
	return types.NamespacedName{Namespace: ns, Name: name}, ok && ns != "" && name != ""
}

var commitPattern = regexp.MustCompile(`sha1:([0-9a-f]{40})`)

// commitOf is the commit hash in a revision ("main@sha1:<hex>").
func commitOf(revision string) string {
	m := commitPattern.FindStringSubmatch(revision)
	if m == nil {
		return ""
	}
	return m[1]
}

func shortCommit(h string) string { return h[:min(len(h), 12)] }

// stopRuns ends the analysis runs still running; a failure to stop one
// (a Job that cannot be deleted) is logged in an Event, not fatal: the
// verdict no longer matters.
func (d *Driver) stopRuns(ctx context.Context, ro *v1alpha1.Rollout) {
	var errs []error
	for i := range ro.Status.Analyses {
		if ro.Status.Analyses[i].Phase == v1alpha1.AnalysisRunning {
			errs = append(errs, d.Analyzer.Stop(ctx, ro, &ro.Status.Analyses[i]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		d.event(ro, corev1.EventTypeWarning, ReasonAnalysisNotReady, err.Error())
	}
}

// event records an Event on ro.
func (d *Driver) event(ro *v1alpha1.Rollout, typ, reason, msg string) {
	if d.Recorder != nil {
		d.Recorder.Event(ro, typ, reason, msg)
	}
}

// eventOnApplication records an Event on the Application that applied ro,
// where its users look first; a Rollout applied otherwise has none.
func (d *Driver) eventOnApplication(ctx context.Context, ro *v1alpha1.Rollout, typ, reason, msg string) {
	if d.Recorder == nil {
		return
	}
	if app, err := d.application(ctx, ro); err == nil {
		d.Recorder.Event(app, typ, reason, msg)
	}
}
