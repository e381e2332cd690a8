package controller

import (
	"errors"

	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/source"
)

// Reasons on an Application's conditions.
const (
	ReasonSucceeded         = "Succeeded"
	ReasonProgressing       = "Progressing"
	ReasonArtifactFailed    = "ArtifactFailed"
	ReasonRenderFailed      = "RenderFailed"
	ReasonDecryptionFailed  = "DecryptionFailed"
	ReasonValidationFailed  = "ValidationFailed"
	ReasonApplyFailed       = "ApplyFailed"
	ReasonPruneFailed       = "PruneFailed"
	ReasonHealthCheckFailed = "HealthCheckFailed"
	// ReasonAnnotationsIgnored: objects carry Argo CD or Flux annotations
	// weir does not honour; the sync goes on without them.
	ReasonAnnotationsIgnored = "AnnotationsIgnored"
	// ReasonDeliveryFailed: a Rollout's template could not be held back
	// or released.
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonSourceNotAllowed: the source is a repository on the
	// controller's disk, which it was not started to allow, or a
	// SourcePolicy refuses a repository or a namespace of the Application.
	ReasonSourceNotAllowed = "SourceNotAllowed"
	// ReasonOwnershipConflict: an object of the set belongs to another
	// Application; nothing was applied.
	ReasonOwnershipConflict = "OwnershipConflict"
	// ReasonCrossNamespaceRef: a field names another namespace than the
	// object's own, which the controller's --no-cross-namespace-refs
	// refuses.
	ReasonCrossNamespaceRef = "CrossNamespaceRef"
	// ReasonImpersonationFailed: the clients that impersonate the
	// Application's ServiceAccount could not be made.
	ReasonImpersonationFailed = "ImpersonationFailed"
	// ReasonVerificationFailed: the revision is not signed by a trusted
	// key, or the trusted keys cannot be read; nothing of it was applied.
	ReasonVerificationFailed = "VerificationFailed"
	// ReasonPolicyViolation: a Deny ClusterSyncPolicy refused an object of
	// the set, or the policies could not be checked; nothing was applied.
	ReasonPolicyViolation = "PolicyViolation"
	// ReasonPolicyWarning: a Warn ClusterSyncPolicy found violations; the
	// sync went on.
	ReasonPolicyWarning = "PolicyWarning"
)

// syncError is a failed sync with the reason to report and whether retrying
// can help before Git or the spec changes.
type syncError struct {
	reason string
	stall  bool
	err    error
	// msg, once the failure is recorded, is what users are told: err's
	// message, summarised, bounded and with secrets redacted.
	msg string
}

func (e *syncError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.err.Error()
}
func (e *syncError) Unwrap() error { return e.err }

// stalled marks err as one that only a change in Git or the spec can fix.
func stalled(reason string, err error) error {
	return &syncError{reason: reason, stall: true, err: err}
}

// reason marks err as a failure that a retry may get past.
func reason(reason string, err error) error { return &syncError{reason: reason, err: err} }

func isStalling(err error) bool {
	if se := (*syncError)(nil); errors.As(err, &se) {
		return se.stall
	}
	if errors.Is(err, source.ErrFileSourceNotAllowed) || errors.Is(err, source.ErrCheckoutTooLarge) {
		// Only the spec, Git or the controller's flags can change that.
		return true
	}
	if de := (*desired.Error)(nil); errors.As(err, &de) {
		// A revision that does not render, decrypt or verify is bad
		// input: retrying does not help until Git or the keys change.
		// A Secret that cannot be read, or holds malformed keys, is
		// retried.
		return de.Stage == desired.StageRender || de.Stage == desired.StageDecrypt || de.Stage == desired.StageVerify
	}
	return false
}

func reasonOf(err error) string {
	if se := (*syncError)(nil); errors.As(err, &se) {
		return se.reason
	}
	if errors.Is(err, source.ErrFileSourceNotAllowed) {
		return ReasonSourceNotAllowed
	}
	if de := (*desired.Error)(nil); errors.As(err, &de) {
		switch de.Stage {
		case desired.StageRender:
			return ReasonRenderFailed
		case desired.StageDecrypt, desired.StageDecryptionKeys:
			return ReasonDecryptionFailed
		case desired.StageVerify, desired.StageVerificationKeys:
			return ReasonVerificationFailed
		}
	}
	return ReasonArtifactFailed
}
