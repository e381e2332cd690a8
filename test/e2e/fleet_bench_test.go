package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// fleetPause is the pause each wave's canary is told to make.
const fleetPause = 2 * time.Second

// BenchmarkFleetRolloutThreeWaves times a change of an ApplicationSet's
// template (a new tag) from the edit until all three Applications, one
// per wave, run it released and the set is Ready. With canary, the tag
// changes the image of a Deployment under a canary Rollout that pauses
// fleetPause at 50%: told-waits-s is those pauses, overhead-s the rest
// (the syncs, the canaries' own steps, the set seeing a wave released and
// opening the next). With configmap, it changes a ConfigMap: the set is
// told no wait, and all is overhead.
func BenchmarkFleetRolloutThreeWaves(b *testing.B) {
	steps := fmt.Sprintf("      - setWeight: 50\n      - pause: {duration: %s}\n", fleetPause)
	b.Run("canary", func(b *testing.B) {
		benchmarkFleetRollout(b, fleetPause, func(version int) map[string]string {
			return map[string]string{
				"web/web.yaml":     fixture.Deployment("web", 2, fmt.Sprintf("shop:v%d", version)),
				"web/svc.yaml":     fixture.Service("web"),
				"web/rollout.yaml": canaryRollout(steps, "", false),
			}
		})
	})
	b.Run("configmap", func(b *testing.B) {
		benchmarkFleetRollout(b, 0, func(version int) map[string]string {
			return map[string]string{"web/cm.yaml": fixture.ConfigMap("web", "version", fmt.Sprint(version))}
		})
	})
}

// benchmarkFleetRollout releases the files of each version in three
// waves, each told to wait pause.
func benchmarkFleetRollout(b *testing.B, pause time.Duration, files func(version int) map[string]string) {
	s := given(b, nil)
	waves := []string{"canary", "europe", "america"}
	var elements []map[string]string
	for _, w := range waves {
		elements = append(elements, map[string]string{"wave": w, "namespace": testenv.Namespace(b)})
	}
	release := func(version int) string {
		s.commit(fmt.Sprintf("v%d", version), files(version))
		tag := fmt.Sprintf("v%d", version)
		s.repo.Git("tag", tag)
		return tag
	}
	set := s.createSet("shop", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{List: &weirv1.ListGenerator{Elements: elements}}},
		Template:   fleetTemplate("shop-{{wave}}", s.repo.URL(), release(0), "web", "{{namespace}}"),
		Rollout:    &weirv1.ApplicationSetRollout{WaveParameter: "wave", Waves: waves},
	})
	s.waitReleased(set, "v0")
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		tag := release(i + 1)
		b.StartTimer()
		started := time.Now()
		s.editSet(set, func(spec *weirv1.ApplicationSetSpec) {
			spec.Template = fleetTemplate("shop-{{wave}}", s.repo.URL(), tag, "web", "{{namespace}}")
		})
		s.waitReleased(set, tag)
		total += time.Since(started)
	}
	b.StopTimer()
	perOp := total.Seconds() / float64(b.N)
	told := float64(len(waves)) * pause.Seconds()
	b.ReportMetric(perOp, "rollout-s/op")
	b.ReportMetric(told, "told-waits-s/op")
	b.ReportMetric(perOp-told, "overhead-s/op")
}

// waitReleased waits until every Application of set tracks tag, is Ready
// and Healthy at it with its Rollouts idle, and the set is Ready.
func (s *story) waitReleased(set *weirv1.ApplicationSet, tag string) {
	s.t.Helper()
	testenv.Eventually(s.t, 3*time.Minute, "ApplicationSet "+set.Name+" released "+tag, func(ctx context.Context) error {
		var apps weirv1.ApplicationList
		if err := s.c.List(ctx, &apps, client.InNamespace(s.ns), client.MatchingLabels{weirv1.ApplicationSetLabel: set.Name}); err != nil {
			return err
		}
		for _, app := range apps.Items {
			st := &app.Status
			if app.Spec.Source.Ref.Tag != tag || !strings.HasPrefix(st.LastAppliedRevision, tag+"@") ||
				app.Status.ObservedGeneration != app.Generation ||
				!apimeta.IsStatusConditionTrue(st.Conditions, weirv1.ReadyCondition) ||
				!apimeta.IsStatusConditionTrue(st.Conditions, weirv1.HealthyCondition) {
				return fmt.Errorf("Application %s tracks %q at %q: %v", app.Name, app.Spec.Source.Ref.Tag, st.LastAppliedRevision, conditionSummary(&app))
			}
			for _, ro := range st.Rollouts {
				if ro.Held || ro.Phase != weirv1.RolloutIdle {
					return fmt.Errorf("Application %s: Rollout %s %s (held %t): %s", app.Name, ro.Name, ro.Phase, ro.Held, ro.Message)
				}
			}
		}
		got := &weirv1.ApplicationSet{}
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(set), got); err != nil {
			return err
		}
		if c := apimeta.FindStatusCondition(got.Status.Conditions, weirv1.ReadyCondition); len(apps.Items) != 3 || c == nil || c.Status != "True" || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("%d Applications; set Ready %+v, waves %+v", len(apps.Items), c, got.Status.Waves)
		}
		return nil
	})
}
