package notify

import (
	"strconv"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Event is what weir tells a provider: one Kubernetes Event about one of
// weir's objects, with the Application it belongs to.
type Event struct {
	// Kind, Namespace and Name are the object the Event is about.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Application is the name of the Application, in Namespace, that the
	// object is or that applied it; empty for objects of none.
	Application string `json:"application,omitempty"`
	// Reason is the Event's reason (Succeeded, ApplyFailed, Promoted, ...).
	Reason string `json:"reason"`
	// Severity is weirv1.SeverityInfo or weirv1.SeverityError.
	Severity string `json:"severity"`
	// Message is the Event's message.
	Message string `json:"message"`
	// Revision is the commit the Event is about, as "<ref>@sha1:<hash>",
	// when known.
	Revision string `json:"revision,omitempty"`
	// Time is when the Event last occurred.
	Time time.Time `json:"timestamp"`
	// Suppressed counts the Events of the same key that the Limiter held
	// back since the last one sent.
	Suppressed int `json:"suppressed,omitempty"`
}

// Reasons are the event reasons weir notifies of when a Notification lists
// none: sync succeeded and failed, drift detected and corrected, rollout
// started, step reached, promoted, aborted, revert pushed, image updated,
// promotion committed or stopped, approval awaited or given.
var Reasons = map[string]bool{
	// Syncs (internal/controller).
	"Succeeded": true, "ArtifactFailed": true, "RenderFailed": true, "DecryptionFailed": true,
	"ValidationFailed": true, "ApplyFailed": true, "PruneFailed": true, "HealthCheckFailed": true,
	"DeliveryFailed": true, "SourceNotAllowed": true, "OwnershipConflict": true,
	"ImpersonationFailed": true, "VerificationFailed": true, "PolicyViolation": true,
	// Drift.
	"DriftDetected": true, "DriftCorrected": true,
	// Rollouts (internal/delivery).
	"Progressing": true, "StepReached": true, "Promoted": true, "AnalysisFailed": true,
	"ProgressDeadlineExceeded": true, "Aborted": true, "RouterNotReady": true,
	"Reverted": true, "RevertFailed": true,
	// Image automation and promotion.
	"ImageUpdated": true, "ScanFailed": true, "CommitFailed": true,
	"PromotionCommitted": true, "PromotionStopped": true, "PromotionFailed": true,
	"ApprovalAwaited": true, "ApprovalGiven": true,
}

// severityOf is the severity of an Event of type typ.
func severityOf(typ string) string {
	if typ == "Warning" {
		return weirv1.SeverityError
	}
	return weirv1.SeverityInfo
}

// title is the one-line heading of e for chat messages.
func (e Event) title() string {
	t := e.Kind + " " + e.Namespace + "/" + e.Name + ": " + e.Reason
	if e.Suppressed > 0 {
		t += " (" + strconv.Itoa(e.Suppressed) + " more held back)"
	}
	return t
}
