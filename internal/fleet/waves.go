package fleet

import (
	"fmt"
	"slices"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/intstr"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Plan is what the set writes in one reconcile.
type Plan struct {
	// Apply are the Applications to create or change now.
	Apply []Generated
	// Remove are the owned Applications of no element, to delete or,
	// when the set preserves them, to let go.
	Remove []*weirv1.Application
	// Waves are where the rollout's waves stand; nil without a rollout.
	Waves []weirv1.WaveStatus
}

// Failed is the message of the wave that stopped the rollout, or "".
func (p Plan) Failed() string {
	for _, w := range p.Waves {
		if w.Phase == weirv1.WaveFailed {
			return fmt.Sprintf("wave %q: %s", w.Name, w.Message)
		}
	}
	return ""
}

// Done reports whether every Application has its template and, with a
// rollout, every wave is complete.
func (p Plan) Done() bool {
	if len(p.Apply) > 0 {
		return false
	}
	for _, w := range p.Waves {
		if w.Phase != weirv1.WaveComplete {
			return false
		}
	}
	return true
}

// state is where one generated Application stands.
type state int

const (
	stateNew      state = iota // not created yet
	stateOutdated              // created from another template hash
	stateUpdating              // current, not yet Ready and Healthy
	stateReady                 // current, Ready and Healthy, Rollouts promoted
	stateFailed                // current, and its sync or a Rollout failed
)

// PlanChanges decides what to write: every new or changed Application at
// once without a rollout; with one, those of the first wave not complete,
// at most maxUnavailable changing at a time, and none past a wave where an
// Application failed. owned are the Applications the set controls.
func PlanChanges(set *weirv1.ApplicationSet, gen []Generated, owned []weirv1.Application) Plan {
	wanted := make(map[string]bool, len(gen))
	for _, g := range gen {
		wanted[g.Application.GetName()] = true
	}
	var plan Plan
	live := make(map[string]*weirv1.Application, len(owned))
	for i := range owned {
		live[owned[i].Name] = &owned[i]
		if !wanted[owned[i].Name] {
			plan.Remove = append(plan.Remove, &owned[i])
		}
	}
	slices.SortFunc(plan.Remove, func(a, b *weirv1.Application) int { return strings.Compare(a.Name, b.Name) })
	ro := set.Spec.Rollout
	if ro == nil {
		for _, g := range gen {
			if s, _ := stateOf(g, live); s == stateNew || s == stateOutdated {
				plan.Apply = append(plan.Apply, g)
			}
		}
		return plan
	}
	open := true
	for _, w := range groupWaves(ro, gen) {
		status, apply := planWave(w, live, ro.MaxUnavailable, open)
		plan.Apply = append(plan.Apply, apply...)
		plan.Waves = append(plan.Waves, status)
		open = open && status.Phase == weirv1.WaveComplete
	}
	return plan
}

// wave is a wave's name and its Applications.
type wave struct {
	name string
	apps []Generated
}

// groupWaves puts each generated Application in the wave its parameter
// names: the declared waves in order, then, if any element has another
// value, a last wave named "".
func groupWaves(ro *weirv1.ApplicationSetRollout, gen []Generated) []wave {
	waves := make([]wave, len(ro.Waves)+1)
	for i, name := range ro.Waves {
		waves[i].name = name
	}
	for _, g := range gen {
		i := slices.Index(ro.Waves, g.Element.Params[ro.WaveParameter])
		if i < 0 {
			i = len(ro.Waves)
		}
		waves[i].apps = append(waves[i].apps, g)
	}
	if len(waves[len(ro.Waves)].apps) == 0 {
		waves = waves[:len(ro.Waves)]
	}
	return waves
}

// planWave is the status of w and what of it to apply now: nothing unless
// the wave is open (every wave before it complete), nothing once one of
// its Applications failed, and no more than maxUnavailable changing.
func planWave(w wave, live map[string]*weirv1.Application, maxUnavailable *intstr.IntOrString, open bool) (weirv1.WaveStatus, []Generated) {
	status := weirv1.WaveStatus{Name: w.name, Applications: int32(len(w.apps))}
	var due, waiting, failed []string
	var pending []Generated
	updating := 0
	for _, g := range w.apps {
		s, why := stateOf(g, live)
		name := g.Application.GetName()
		switch s {
		case stateNew, stateOutdated:
			pending = append(pending, g)
			due = append(due, name)
		case stateUpdating:
			updating++
			waiting = append(waiting, name)
		case stateFailed:
			failed = append(failed, name+": "+why)
		case stateReady:
			status.Ready++
		}
	}
	status.Updated = int32(len(w.apps) - len(pending))
	switch {
	case !open:
		status.Phase = weirv1.WavePending
		if len(pending) > 0 {
			status.Message = "waiting for the waves before it; holds back " + names(due)
		}
		return status, nil
	case len(failed) > 0:
		status.Phase, status.Message = weirv1.WaveFailed, "Application "+failed[0]
		return status, nil
	case int(status.Ready) == len(w.apps):
		status.Phase = weirv1.WaveComplete
		return status, nil
	}
	budget := unavailable(maxUnavailable, len(w.apps)) - updating
	apply := pending[:max(0, min(budget, len(pending)))]
	status.Updated += int32(len(apply))
	status.Phase = weirv1.WaveProgressing
	for _, g := range apply {
		waiting = append(waiting, g.Application.GetName())
	}
	status.Message = "waiting for " + names(waiting) + " to be Ready and Healthy"
	return status, apply
}

// unavailable is how many of total Applications may change at once.
func unavailable(maxUnavailable *intstr.IntOrString, total int) int {
	if maxUnavailable == nil {
		return total
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, total, true)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// names lists up to five names, and how many more there are.
func names(list []string) string {
	const shown = 5
	if len(list) <= shown {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:shown], ", "), len(list)-shown)
}

// stateOf is where g's Application stands, and why it failed.
func stateOf(g Generated, live map[string]*weirv1.Application) (state, string) {
	app, ok := live[g.Application.GetName()]
	switch {
	case !ok:
		return stateNew, ""
	case app.Annotations[weirv1.ApplicationSetHashAnnotation] != g.Hash:
		return stateOutdated, ""
	case app.Status.ObservedGeneration != app.Generation:
		return stateUpdating, ""
	}
	if why := failure(&app.Status); why != "" {
		return stateFailed, why
	}
	if released(&app.Status) {
		return stateReady, ""
	}
	return stateUpdating, ""
}

// failure says why an Application failed its current spec: a Rollout
// aborted, a stalled or failed sync; "" if it did not.
func failure(st *weirv1.ApplicationStatus) string {
	for _, ro := range st.Rollouts {
		if ro.Phase == weirv1.RolloutAborted {
			return fmt.Sprintf("Rollout %s/%s aborted: %s", ro.Namespace, ro.Name, ro.Message)
		}
	}
	if c := apimeta.FindStatusCondition(st.Conditions, weirv1.StalledCondition); c != nil && c.Status == "True" {
		return c.Reason + ": " + c.Message
	}
	if c := apimeta.FindStatusCondition(st.Conditions, weirv1.ReadyCondition); c != nil && c.Status == "False" {
		return c.Reason + ": " + c.Message
	}
	return ""
}

// released reports whether an Application is Ready and Healthy with no
// Rollout under way.
func released(st *weirv1.ApplicationStatus) bool {
	for _, ro := range st.Rollouts {
		if ro.Held || (ro.Phase != "" && ro.Phase != weirv1.RolloutIdle) {
			return false
		}
	}
	return apimeta.IsStatusConditionTrue(st.Conditions, weirv1.ReadyCondition) &&
		apimeta.IsStatusConditionTrue(st.Conditions, weirv1.HealthyCondition)
}

// Standing is what a rollout reads of an Application: two Applications of
// one Standing are at the same point of a release, so a change between
// them need not wake the set.
type Standing struct {
	Hash                 string
	Generation, Observed int64
	Released             bool
	Failure              string
}

// StandingOf is the Standing of app.
func StandingOf(app *weirv1.Application) Standing {
	return Standing{Hash: app.Annotations[weirv1.ApplicationSetHashAnnotation], Generation: app.Generation,
		Observed: app.Status.ObservedGeneration, Released: released(&app.Status), Failure: failure(&app.Status)}
}
