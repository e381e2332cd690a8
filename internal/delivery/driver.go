package delivery

import (
	"context"
	"errors"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/source"
)

// What the Driver needs of the cluster for itself. What it does in an
// Application's namespaces (the copies and their ReplicaSets, Services, the
// routers' objects, analysis Jobs) is granted with what the Application
// applies there, as the README's "Install in a cluster" says: Deployments
// get, list, create, patch, delete; ReplicaSets list; Services get, create,
// patch; and each router's needs, listed in internal/delivery/traffic.
// +kubebuilder:rbac:groups=weir.dev,resources=rollouts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=weir.dev,resources=rollouts/status,verbs=get;patch

// Analyzer runs analysis templates (analysis.Analyzer).
type Analyzer interface {
	Start(ctx context.Context, ro *v1alpha1.Rollout, name string, step int32, spec v1alpha1.AnalysisStep, args map[string]string, now time.Time) (v1alpha1.AnalysisRunStatus, error)
	Advance(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus, spec v1alpha1.AnalysisStep, args map[string]string, now time.Time) (time.Duration, error)
	Stop(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRunStatus) error
}

// Reverter pushes revert commits (gitwrite.Reverter).
type Reverter interface {
	Revert(ctx context.Context, req gitwrite.RevertRequest) (string, error)
}

// CredentialReader reads an Application's Git credentials and the key
// that signs weir's commits, nil when it has none (desired.Loader).
type CredentialReader interface {
	Credentials(ctx context.Context, app *v1alpha1.Application) (source.Credentials, error)
	SigningKey(ctx context.Context, app *v1alpha1.Application) ([]byte, error)
}

// Driver moves Rollouts along their strategies. It keeps no state of its
// own: everything lives in the Rollout's status and in the cluster.
type Driver struct {
	// Client reads and writes Deployments, ReplicaSets, Services and the
	// routers' objects; it should not cache, so that weir watches only
	// what it manages.
	Client client.Client
	// Applications reads the Application that applied a Rollout, as weir:
	// Client may act as an identity that cannot.
	Applications client.Reader
	// Analyzer judges analysis steps.
	Analyzer Analyzer
	// Reverter and Credentials push revert commits for Rollouts that ask.
	Reverter    Reverter
	Credentials CredentialReader
	// Recorder records Events on Rollouts.
	Recorder record.EventRecorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll is how often a rollout waiting for pods is looked at again; zero
	// means two seconds.
	Poll time.Duration
}

// Result says when to advance a Rollout again and what else it needs.
type Result struct {
	// RequeueAfter is when to come back; zero waits for the next change.
	RequeueAfter time.Duration
	// SyncApplication asks for a sync of the Application that applied the
	// Rollout: to promote, or to apply a revert pushed to Git.
	SyncApplication bool
}

// Reasons on a Rollout's conditions.
const (
	ReasonIdle                     = "Idle"
	ReasonProgressing              = "Progressing"
	ReasonPromoted                 = "Promoted"
	ReasonStepReached              = "StepReached"
	ReasonAnalysisFailed           = "AnalysisFailed"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonAborted                  = "Aborted"
	ReasonReverted                 = "Reverted"
	ReasonRevertFailed             = "RevertFailed"
	ReasonTargetNotFound           = "TargetNotFound"
	ReasonRouterNotReady           = "RouterNotReady"
	ReasonAnalysisNotReady         = "AnalysisNotReady"
	ReasonServiceNotFound          = "ServiceNotFound"
	// ReasonNotApplied: the Rollout names an Application whose inventory
	// does not hold it, and is refused what needs that Application (a
	// revert in its repository).
	ReasonNotApplied = "NotAppliedByApplication"
)

// stallError is a problem of the Rollout's spec or of the objects it
// names, which only the user can fix.
type stallError struct {
	reason string
	err    error
}

func (e *stallError) Error() string { return e.err.Error() }
func (e *stallError) Unwrap() error { return e.err }

func stall(reason string, err error) error { return &stallError{reason: reason, err: err} }

// errNotYet says that something the step needs is not there yet (the
// ReplicaSet of a Deployment just changed): Advance comes back soon.
var errNotYet = errors.New("not yet")

// stalledRecheck is how often a stalled Rollout looks again for what it
// misses: often, since what it misses usually arrives in the same sync (a
// Rollout may be applied before its Deployment).
const stalledRecheck = 5 * time.Second

// Advance takes the next step of ro, which it changes in memory: its
// status records what was done, and the caller patches it. A problem with
// what the Rollout names (a missing Deployment, router object or template)
// sets Stalled with a reason and message and is not returned.
func (d *Driver) Advance(ctx context.Context, ro *v1alpha1.Rollout) (Result, error) {
	res, err := d.advance(ctx, ro)
	ro.Status.ObservedGeneration = ro.Generation
	if se := (*stallError)(nil); errors.As(err, &se) {
		d.setCondition(ro, v1alpha1.StalledCondition, metav1.ConditionTrue, se.reason, se.Error())
		d.setCondition(ro, v1alpha1.ReadyCondition, metav1.ConditionFalse, se.reason, se.Error())
		ro.Status.Message = se.Error()
		return Result{RequeueAfter: stalledRecheck}, nil
	}
	if errors.Is(err, errNotYet) {
		return Result{RequeueAfter: d.poll()}, nil
	}
	if err == nil {
		apimeta.RemoveStatusCondition(&ro.Status.Conditions, v1alpha1.StalledCondition)
	}
	return res, err
}

func (d *Driver) advance(ctx context.Context, ro *v1alpha1.Rollout) (Result, error) {
	w, err := d.observe(ctx, ro)
	if err != nil {
		return Result{}, err
	}
	if w.copy == nil {
		return d.idle(ctx, w)
	}
	hash := w.copyHash()
	if d.takeRequest(ro, v1alpha1.RetryAnnotation) {
		d.retry(ro, hash)
	}
	if f := failed(&ro.Status, hash); f != nil {
		return d.keepAborted(ctx, w, f)
	}
	if ro.Status.CanaryHash != hash || ro.Status.Phase == v1alpha1.RolloutAborted || ro.Status.Phase == v1alpha1.RolloutIdle {
		if err := d.begin(ctx, w); err != nil {
			return Result{}, err
		}
	}
	if d.takeRequest(ro, v1alpha1.AbortAnnotation) {
		return d.abort(ctx, w, ReasonAborted, "aborted by hand")
	}
	d.takePauseRequests(ro)
	if ro.Spec.Strategy.BlueGreen != nil {
		return d.advanceBlueGreen(ctx, w)
	}
	return d.advanceCanary(ctx, w)
}

// now is the Driver's clock.
func (d *Driver) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Driver) poll() time.Duration {
	if d.Poll > 0 {
		return d.Poll
	}
	return 2 * time.Second
}

// setCondition sets one condition of ro.
func (d *Driver) setCondition(ro *v1alpha1.Rollout, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&ro.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: ro.Generation,
	})
}

// progressing records that a release is under way, with msg. It is not
// kstatus' Reconciling: the Rollout itself is reconciled, and a release
// that takes an hour of pauses must not hold up the syncs of its
// Application, whose stable workload serves meanwhile.
func (d *Driver) progressing(ro *v1alpha1.Rollout, msg string) {
	ro.Status.Message = msg
	d.setCondition(ro, v1alpha1.ProgressingCondition, metav1.ConditionTrue, ReasonProgressing, msg)
	d.setCondition(ro, v1alpha1.ReadyCondition, metav1.ConditionFalse, ReasonProgressing, msg)
}

// settled records that a rollout rests, Ready or not, with msg.
func (d *Driver) settled(ro *v1alpha1.Rollout, ready bool, reason, msg string) {
	ro.Status.Message = msg
	d.setCondition(ro, v1alpha1.ProgressingCondition, metav1.ConditionFalse, reason, msg)
	status := metav1.ConditionTrue
	if !ready {
		status = metav1.ConditionFalse
	}
	d.setCondition(ro, v1alpha1.ReadyCondition, status, reason, msg)
}
