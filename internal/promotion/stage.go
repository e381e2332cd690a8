package promotion

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// phase is where a stage's Applications stand: Failed when a Rollout of
// one aborted; Released when all are released at one change (see
// released) and those of one repository and ref at the same revision;
// else Progressing.
func phase(apps []weirv1.Application) string {
	ok := true
	revisions := map[string]string{}
	for i := range apps {
		app := &apps[i]
		for _, ro := range app.Status.Rollouts {
			if ro.Phase == weirv1.RolloutAborted {
				return weirv1.StageFailed
			}
		}
		if !released(app) {
			ok = false
		}
		source := app.Spec.Source.URL + " " + app.Spec.Source.Ref.String()
		if rev, seen := revisions[source]; seen && rev != app.Status.LastAppliedRevision {
			ok = false
		}
		revisions[source] = app.Status.LastAppliedRevision
	}
	if ok {
		return weirv1.StageReleased
	}
	return weirv1.StageProgressing
}

// released reports whether app runs its last revision released: its spec
// reconciled, no sync under way (a sync applies before it awaits health,
// and its Deployments may run what is not yet healthy), the revision it
// last tried applied, Ready and Healthy, and none of its Rollouts under
// way or holding a template back.
func released(app *weirv1.Application) bool {
	st := &app.Status
	for _, ro := range st.Rollouts {
		if ro.Held || (ro.Phase != "" && ro.Phase != weirv1.RolloutIdle) {
			return false
		}
	}
	return st.ObservedGeneration == app.Generation && !apimeta.IsStatusConditionTrue(st.Conditions, weirv1.ReconcilingCondition) &&
		st.LastAppliedRevision != "" && st.LastAppliedRevision == st.LastAttemptedRevision &&
		apimeta.IsStatusConditionTrue(st.Conditions, weirv1.ReadyCondition) &&
		apimeta.IsStatusConditionTrue(st.Conditions, weirv1.HealthyCondition)
}

// failure is the last failure a Rollout of apps records that names
// commit, or "".
func failure(apps []weirv1.Application, commit string) string {
	if commit == "" {
		return ""
	}
	for i := range apps {
		for _, ro := range apps[i].Status.Rollouts {
			if ro.LastFailure != "" && strings.Contains(ro.LastFailure, commit) {
				return ro.LastFailure
			}
		}
	}
	return ""
}

// runningImages is, for each image of the pipeline, "repository:tag" as
// the containers of deployments run it, or nil when the deployments run
// none of an image or several tags of one.
func runningImages(images []weirv1.PipelineImage, deployments []appsv1.Deployment) []string {
	out := make([]string, len(images))
	for i, img := range images {
		for _, d := range deployments {
			for _, c := range d.Spec.Template.Spec.Containers {
				colon := strings.LastIndex(c.Image, ":")
				if colon < 0 || strings.Contains(c.Image[colon:], "/") || c.Image[:colon] != img.Repository {
					continue
				}
				if out[i] != "" && out[i] != c.Image {
					return nil
				}
				out[i] = c.Image
			}
		}
		if out[i] == "" {
			return nil
		}
	}
	return out
}

// tags is the tag of each "repository:tag".
func tags(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r[strings.LastIndex(r, ":")+1:]
	}
	return out
}

// sameChange reports whether two stages, or a stage and a change, hold
// the same images and values, and some.
func sameChange(aImages, aValues, bImages, bValues []string) bool {
	return len(aImages)+len(aValues) > 0 && slices.Equal(aImages, bImages) && slices.Equal(aValues, bValues)
}

// complete reports whether s is known to run each image and each value of
// p: its Deployments agree on the images, and its first Application has
// applied a revision to read the values at.
func complete(p *weirv1.Pipeline, s *stage) bool {
	return (len(p.Spec.Images) == 0 || len(s.Images) > 0) && (len(p.Spec.Values) == 0 || len(s.Values) > 0)
}

// change is what s runs, as a commit message and an Event name it.
func (s *stage) change() string {
	return strings.Join(append(slices.Clip(s.Images), s.Values...), ", ")
}
