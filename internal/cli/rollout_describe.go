package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// describeRollout renders a Rollout's status for people: the strategy,
// where it is, every step with its state, the analysis runs with their
// latest values, and the revisions that failed.
func describeRollout(ro *weirv1.Rollout) string {
	var b strings.Builder
	st := ro.Status
	fmt.Fprintf(&b, "Rollout %s/%s: Deployment %s, %s\n", ro.Namespace, ro.Name, ro.Spec.TargetRef.Name, ro.Spec.Strategy)
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Phase:\t%s\n", orDash(string(st.Phase)))
	if canary := ro.Spec.Strategy.Canary; canary != nil {
		fmt.Fprintf(w, "Step:\t%d of %d\n", st.CurrentStep, len(canary.Steps))
		fmt.Fprintf(w, "Weight:\t%d%%\n", st.CanaryWeight)
	}
	fmt.Fprintf(w, "Revision:\t%s\n", orDash(shortRevision(st.Revision)))
	fmt.Fprintf(w, "Stable:\t%s\n", orDash(st.StableHash))
	fmt.Fprintf(w, "Canary:\t%s\n", orDash(st.CanaryHash))
	if st.Message != "" {
		fmt.Fprintf(w, "Message:\t%s\n", st.Message)
	}
	w.Flush()
	if canary := ro.Spec.Strategy.Canary; canary != nil && len(canary.Steps) > 0 {
		b.WriteString("\n")
		writeSteps(&b, canary.Steps, st)
	}
	if len(st.Analyses) > 0 {
		b.WriteString("\n")
		writeAnalyses(&b, st.Analyses)
	}
	if len(st.FailedRevisions) > 0 {
		b.WriteString("\nFailed revisions (their templates are not released again unless retried):\n")
		for _, f := range st.FailedRevisions {
			fmt.Fprintf(&b, "  %s (template %s): %s", shortRevision(f.Revision), f.TemplateHash, f.Reason)
			if r := f.RevertSummary(); r != "" {
				b.WriteString("; " + r)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// writeSteps lists the canary steps, marking those done and the current.
func writeSteps(b *strings.Builder, steps []weirv1.CanaryStep, st weirv1.RolloutStatus) {
	w := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STEP\tACTION\tSTATE")
	for i, s := range steps {
		fmt.Fprintf(w, "%d\t%s\t%s\n", i, s, st.StepState(int32(i)))
	}
	w.Flush()
}

// writeAnalyses lists every metric of every run with its counts and its
// latest measured values.
func writeAnalyses(b *strings.Builder, runs []weirv1.AnalysisRunStatus) {
	w := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ANALYSIS\tMETRIC\tPHASE\tOK/FAILED/INCONCLUSIVE/ERROR\tLATEST VALUES")
	for _, run := range runs {
		if len(run.Metrics) == 0 {
			fmt.Fprintf(w, "%s\t\t%s\t\t%s\n", run.Name, run.Phase, run.Message)
		}
		for _, m := range run.Metrics {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d/%d/%d\t%s\n", run.Name, m.Name, m.Phase,
				m.Successful, m.Failed, m.Inconclusive, m.Error, latestValues(m.Measurements, 3))
		}
	}
	w.Flush()
}

// latestValues joins the last n measured values, oldest first.
func latestValues(ms []weirv1.Measurement, n int) string {
	if len(ms) > n {
		ms = ms[len(ms)-n:]
	}
	values := make([]string, len(ms))
	for i, m := range ms {
		values[i] = m.Value
		if m.Value == "" {
			values[i] = strings.ToLower(string(m.Phase))
		}
	}
	return strings.Join(values, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
