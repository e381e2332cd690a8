package delivery

import (
	"slices"

	"weir.dev/weir/api/v1alpha1"
)

// takeRequest reports whether ro carries a request by hand (an action
// annotation) not acted on yet, and marks it acted on.
func (d *Driver) takeRequest(ro *v1alpha1.Rollout, annotation string) bool {
	value, ok := ro.Annotations[annotation]
	if !ok || ro.Status.HandledRequests[annotation] == value {
		return false
	}
	if ro.Status.HandledRequests == nil {
		ro.Status.HandledRequests = map[string]string{}
	}
	ro.Status.HandledRequests[annotation] = value
	return true
}

// takePauseRequests applies `weir rollout pause` and `resume`.
func (d *Driver) takePauseRequests(ro *v1alpha1.Rollout) {
	if d.takeRequest(ro, v1alpha1.PauseAnnotation) {
		ro.Status.PausedByHand = true
	}
	if d.takeRequest(ro, v1alpha1.ResumeAnnotation) {
		ro.Status.PausedByHand = false
	}
}

// dropRequests marks every request by hand acted on without acting: a
// promotion asked for while nothing runs must not end the first pause of
// the next release. keep names requests still to act on.
func (d *Driver) dropRequests(ro *v1alpha1.Rollout, keep ...string) {
	for _, a := range []string{v1alpha1.PromoteAnnotation, v1alpha1.AbortAnnotation, v1alpha1.RetryAnnotation, v1alpha1.PauseAnnotation, v1alpha1.ResumeAnnotation} {
		if !slices.Contains(keep, a) {
			d.takeRequest(ro, a)
		}
	}
}

// retry lifts the quarantine of hash, so that it is released again.
func (d *Driver) retry(ro *v1alpha1.Rollout, hash string) {
	ro.Status.FailedRevisions = slices.DeleteFunc(ro.Status.FailedRevisions, func(f v1alpha1.FailedRevision) bool {
		return f.TemplateHash == hash
	})
}
