package fleet

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// live states of an Application in the wave tests.
const (
	absent   = ""         // not created
	old      = "old"      // created from the previous template, Ready
	changing = "changing" // changed, not yet observed
	ready    = "ready"    // changed, Ready and Healthy
	failing  = "failing"  // changed, its sync failed
	aborted  = "aborted"  // changed, its Rollout aborted
	holding  = "holding"  // changed, Ready, a Rollout under way
)

// fleetOf renders one Application per name=wave pair and the live
// Applications in the given states.
func fleetOf(t *testing.T, set *weirv1.ApplicationSet, apps map[string][2]string) ([]Generated, []weirv1.Application) {
	t.Helper()
	var gen []Generated
	var live []weirv1.Application
	for _, name := range sortedNames(apps) {
		g, err := Render(set, elem("element "+name, "name", name, "region", "eu", "wave", apps[name][0]))
		if err != nil {
			t.Fatal(err)
		}
		gen = append(gen, g)
		if st := apps[name][1]; st != absent {
			live = append(live, liveApp(g, st))
		}
	}
	return gen, live
}

func sortedNames(m map[string][2]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func liveApp(g Generated, st string) weirv1.Application {
	app := weirv1.Application{ObjectMeta: metav1.ObjectMeta{Name: g.Application.GetName(), Generation: 2,
		Annotations: map[string]string{weirv1.ApplicationSetHashAnnotation: g.Hash}}}
	app.Status.ObservedGeneration = 2
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "the message"}
	}
	healthy := []metav1.Condition{cond(weirv1.ReadyCondition, "True", "Succeeded"), cond(weirv1.HealthyCondition, "True", "Succeeded")}
	switch st {
	case old:
		app.Annotations[weirv1.ApplicationSetHashAnnotation] = "previous"
		app.Status.Conditions = healthy
	case changing:
		app.Status.ObservedGeneration = 1
		app.Status.Conditions = healthy
	case ready:
		app.Status.Conditions = healthy
	case failing:
		app.Status.Conditions = []metav1.Condition{cond(weirv1.ReadyCondition, "False", "HealthCheckFailed")}
	case aborted, holding:
		app.Status.Conditions = healthy
		ro := weirv1.RolloutProgress{Name: "web", Namespace: "shop", Phase: weirv1.RolloutProgressing, Message: "analysis error-rate measured 0.4"}
		if st == aborted {
			ro.Phase = weirv1.RolloutAborted
		}
		app.Status.Rollouts = []weirv1.RolloutProgress{ro}
	}
	return app
}

func rolloutSet(maxUnavailable *intstr.IntOrString) *weirv1.ApplicationSet {
	set := testSet("")
	set.Spec.Rollout = &weirv1.ApplicationSetRollout{WaveParameter: "wave", Waves: []string{"canary", "eu", "us"}, MaxUnavailable: maxUnavailable}
	return set
}

func applied(p Plan) []string {
	var out []string
	for _, g := range p.Apply {
		out = append(out, g.Application.GetName())
	}
	return out
}

func phases(p Plan) string {
	var out []string
	for _, w := range p.Waves {
		out = append(out, w.Name+"="+w.Phase)
	}
	return strings.Join(out, " ")
}

func TestPlanChangesInWaves(t *testing.T) {
	one := intstr.FromInt32(1)
	half := intstr.FromString("50%")
	tests := []struct {
		name        string
		maxUnavail  *intstr.IntOrString
		apps        map[string][2]string
		wantApplied []string
		wantPhases  string
		wantMessage string
	}{
		{name: "a change opens the first wave only",
			apps:        map[string][2]string{"a": {"canary", old}, "b": {"eu", old}, "c": {"us", old}},
			wantApplied: []string{"a-app"}, wantPhases: "canary=Progressing eu=Pending us=Pending"},
		{name: "the next wave opens once the first is Ready and Healthy",
			apps:        map[string][2]string{"a": {"canary", ready}, "b": {"eu", old}, "c": {"us", old}},
			wantApplied: []string{"b-app"}, wantPhases: "canary=Complete eu=Progressing us=Pending"},
		{name: "a wave waits for an Application not yet observed",
			apps:       map[string][2]string{"a": {"canary", changing}, "b": {"eu", old}},
			wantPhases: "canary=Progressing eu=Pending us=Pending"},
		{name: "a Rollout under way holds the wave",
			apps:       map[string][2]string{"a": {"canary", holding}, "b": {"eu", old}},
			wantPhases: "canary=Progressing eu=Pending us=Pending"},
		{name: "a failed sync stops the rollout",
			apps:        map[string][2]string{"a": {"canary", ready}, "b": {"eu", failing}, "b2": {"eu", old}, "c": {"us", old}},
			wantPhases:  "canary=Complete eu=Failed us=Pending",
			wantMessage: `wave "eu": Application b-app: HealthCheckFailed: the message`},
		{name: "an aborted Rollout stops the rollout",
			apps:        map[string][2]string{"a": {"canary", aborted}, "b": {"eu", old}},
			wantPhases:  "canary=Failed eu=Pending us=Pending",
			wantMessage: `wave "canary": Application a-app: Rollout shop/web aborted: analysis error-rate measured 0.4`},
		{name: "maxUnavailable 1 changes one at a time", maxUnavail: &one,
			apps:       map[string][2]string{"a": {"canary", ready}, "b": {"eu", changing}, "b2": {"eu", old}, "b3": {"eu", old}},
			wantPhases: "canary=Complete eu=Progressing us=Pending"},
		{name: "maxUnavailable 50% of four is two", maxUnavail: &half,
			apps:        map[string][2]string{"b": {"eu", ready}, "b2": {"eu", old}, "b3": {"eu", old}, "b4": {"eu", old}},
			wantApplied: []string{"b2-app", "b3-app"}, wantPhases: "canary=Complete eu=Progressing us=Pending"},
		{name: "new Applications of a later wave wait too",
			apps:        map[string][2]string{"a": {"canary", old}, "c": {"us", absent}},
			wantApplied: []string{"a-app"}, wantPhases: "canary=Progressing eu=Pending us=Pending"},
		{name: "elements of no declared wave go last",
			apps:        map[string][2]string{"a": {"canary", ready}, "b": {"eu", ready}, "c": {"us", ready}, "x": {"elsewhere", old}},
			wantApplied: []string{"x-app"}, wantPhases: "canary=Complete eu=Complete us=Complete =Progressing"},
		{name: "all done",
			apps:       map[string][2]string{"a": {"canary", ready}, "b": {"eu", ready}},
			wantPhases: "canary=Complete eu=Complete us=Complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := rolloutSet(tt.maxUnavail)
			gen, live := fleetOf(t, set, tt.apps)
			plan := PlanChanges(set, gen, live)
			if got := applied(plan); !slices.Equal(got, tt.wantApplied) {
				t.Errorf("applied %v, want %v", got, tt.wantApplied)
			}
			if got := phases(plan); got != tt.wantPhases {
				t.Errorf("waves %s, want %s", got, tt.wantPhases)
			}
			if got := plan.Failed(); got != tt.wantMessage {
				t.Errorf("failure %q, want %q", got, tt.wantMessage)
			}
			if done := tt.wantPhases == "canary=Complete eu=Complete us=Complete" && len(tt.wantApplied) == 0; plan.Done() != done {
				t.Errorf("Done() = %v", plan.Done())
			}
		})
	}
}

func TestWaveStatusCounts(t *testing.T) {
	set := rolloutSet(nil)
	gen, live := fleetOf(t, set, map[string][2]string{"a": {"canary", ready}, "b": {"eu", ready}, "b2": {"eu", changing}, "b3": {"eu", old}, "c": {"us", old}})
	plan := PlanChanges(set, gen, live)
	want := []weirv1.WaveStatus{
		{Name: "canary", Phase: weirv1.WaveComplete, Applications: 1, Updated: 1, Ready: 1},
		{Name: "eu", Phase: weirv1.WaveProgressing, Applications: 3, Updated: 3, Ready: 1, Message: "waiting for b2-app, b3-app to be Ready and Healthy"},
		{Name: "us", Phase: weirv1.WavePending, Applications: 1, Updated: 0, Message: "waiting for the waves before it; holds back c-app"},
	}
	if !slices.Equal(plan.Waves, want) {
		t.Errorf("waves\n%+v\nwant\n%+v", plan.Waves, want)
	}
}

func TestPlanChangesWithoutRollout(t *testing.T) {
	set := testSet("")
	gen, live := fleetOf(t, set, map[string][2]string{"a": {"", old}, "b": {"", absent}, "c": {"", failing}})
	stale := weirv1.Application{ObjectMeta: metav1.ObjectMeta{Name: "gone-app"}}
	plan := PlanChanges(set, gen, append(live, stale))
	if got := applied(plan); !slices.Equal(got, []string{"a-app", "b-app"}) {
		t.Errorf("applied %v", got)
	}
	if len(plan.Remove) != 1 || plan.Remove[0].Name != "gone-app" {
		t.Errorf("removed %v", plan.Remove)
	}
	if plan.Waves != nil {
		t.Errorf("waves %v without a rollout", plan.Waves)
	}
}

func TestStandingChangesOnlyWithWhatARolloutReads(t *testing.T) {
	g, err := Render(testSet(""), elem("e", "name", "web", "region", "eu"))
	if err != nil {
		t.Fatal(err)
	}
	base := liveApp(g, ready)
	tests := []struct {
		name    string
		edit    func(*weirv1.Application)
		changed bool
	}{
		{"a new sync record", func(a *weirv1.Application) {
			a.Status.History = append(a.Status.History, weirv1.SyncRecord{Revision: "main@sha1:1"})
		}, false},
		{"a new message", func(a *weirv1.Application) { a.Status.Conditions[0].Message = "other" }, false},
		{"a new generation", func(a *weirv1.Application) { a.Generation++ }, true},
		{"not Ready", func(a *weirv1.Application) { a.Status.Conditions[0].Status = "False" }, true},
		{"a Rollout under way", func(a *weirv1.Application) {
			a.Status.Rollouts = []weirv1.RolloutProgress{{Name: "web", Phase: weirv1.RolloutProgressing}}
		}, true},
		{"another hash", func(a *weirv1.Application) { a.Annotations[weirv1.ApplicationSetHashAnnotation] = "x" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := base.DeepCopy()
			tt.edit(edited)
			if got := StandingOf(edited) != StandingOf(&base); got != tt.changed {
				t.Errorf("changed = %v, want %v", got, tt.changed)
			}
		})
	}
}
