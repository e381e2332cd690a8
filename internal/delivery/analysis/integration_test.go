package analysis

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// clusterClient is an admin client that knows weir's types.
func clusterClient(t testing.TB) client.Client {
	t.Helper()
	return testenv.Client(t, v1alpha1.AddToScheme)
}

// createRollout creates a Rollout for Jobs to be owned by (the garbage
// collector deletes a Job whose owner does not exist).
func createRollout(t testing.TB, c client.Client, ns string) *v1alpha1.Rollout {
	t.Helper()
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: v1alpha1.RolloutSpec{
			TargetRef: v1alpha1.LocalObjectReference{Name: "web"},
			Strategy:  v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Service: "web"}},
		},
	}
	if err := c.Create(t.Context(), ro); err != nil {
		t.Fatal(err)
	}
	return ro
}

// createTemplate creates an AnalysisTemplate with the given metrics.
func createTemplate(t testing.TB, c client.Client, ns, name string, args []v1alpha1.AnalysisArgument, metrics ...v1alpha1.Metric) {
	t.Helper()
	tmpl := &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.AnalysisTemplateSpec{Args: args, Metrics: metrics},
	}
	if err := c.Create(t.Context(), tmpl); err != nil {
		t.Fatal(err)
	}
}

// runToVerdict starts a run and advances it in real time, as the controller
// would, until it has a verdict.
func runToVerdict(ctx context.Context, t testing.TB, a *Analyzer, ro *v1alpha1.Rollout, spec v1alpha1.AnalysisStep, args map[string]string) v1alpha1.AnalysisRunStatus {
	t.Helper()
	run, err := a.Start(ctx, ro, "step-1", 1, spec, args, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for {
		wait, err := a.Advance(ctx, ro, &run, spec, args, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if wait == 0 {
			return run
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no verdict: %v; run %+v", ctx.Err(), run)
		case <-time.After(wait):
		}
	}
}

func stepOf(templates ...string) v1alpha1.AnalysisStep {
	s := v1alpha1.AnalysisStep{}
	for _, name := range templates {
		s.Templates = append(s.Templates, v1alpha1.AnalysisTemplateRef{Name: name})
	}
	return s
}
