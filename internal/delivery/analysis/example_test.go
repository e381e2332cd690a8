package analysis_test

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery/analysis"
)

// A controller starts a run when a step asks for analysis, keeps it in the
// Rollout's status, and advances it on every reconcile until it has a
// verdict, requeueing after the wait Advance returns.
func Example() {
	var (
		ctx = context.Background()
		c   client.Client // the manager's client
		ro  *v1alpha1.Rollout
	)
	a := analysis.NewAnalyzer(c)
	step := v1alpha1.AnalysisStep{
		Templates: []v1alpha1.AnalysisTemplateRef{{Name: "istio-request-success-rate", Builtin: true}},
		Args:      []v1alpha1.AnalysisArg{{Name: "prometheus-address", Value: "http://prometheus.istio-system:9090"}},
	}
	args := map[string]string{"namespace": "shop", "canary-service": "web-canary"}

	run, err := a.Start(ctx, ro, "step-2", 2, step, args, time.Now())
	if err != nil {
		return // a missing template or argument: set a condition saying so
	}
	ro.Status.Analyses = append(ro.Status.Analyses, run)

	// On each reconcile, with the run read back from the status:
	current := &ro.Status.Analyses[len(ro.Status.Analyses)-1]
	wait, err := a.Advance(ctx, ro, current, step, args, time.Now())
	switch {
	case err != nil:
		// retry
	case wait > 0:
		// patch the status, requeue after wait
	case current.Phase == v1alpha1.AnalysisFailed:
		// abort; current.Message says which metric failed, with its value
	}
}
