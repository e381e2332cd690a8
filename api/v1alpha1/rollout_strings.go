package v1alpha1

import (
	"fmt"
	"strings"
)

// String says what the step does, in a few words: "setWeight 25",
// "pause until promoted", "analysis success-rate".
func (s CanaryStep) String() string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("setWeight %d", *s.SetWeight)
	case s.Pause != nil && s.Pause.Duration != nil:
		return "pause " + s.Pause.Duration.Duration.String()
	case s.Pause != nil:
		return "pause until promoted"
	case s.Analysis != nil:
		names := make([]string, len(s.Analysis.Templates))
		for i, r := range s.Analysis.Templates {
			names[i] = r.Name
		}
		return "analysis " + strings.Join(names, ", ")
	case s.SetHeaderRoute != nil:
		return fmt.Sprintf("setHeaderRoute (%d matches)", len(s.SetHeaderRoute.Matches))
	case s.SetMirror != nil:
		return fmt.Sprintf("setMirror %d%%", s.SetMirror.Percent)
	}
	return "?"
}

// String names the strategy and how it moves traffic.
func (s RolloutStrategy) String() string {
	switch {
	case s.BlueGreen != nil:
		return fmt.Sprintf("blue/green (active Service %s, preview Service %s)", s.BlueGreen.ActiveService, s.BlueGreen.PreviewService)
	case s.Canary != nil:
		return fmt.Sprintf("canary behind Service %s, %s", s.Canary.Service, s.Canary.TrafficRouting.describe())
	}
	return "no strategy"
}

func (r *TrafficRouting) describe() string {
	switch {
	case r == nil:
		return "traffic by replica ratio"
	case r.GatewayAPI != nil:
		return "traffic by Gateway API HTTPRoute " + r.GatewayAPI.HTTPRoute
	case r.Istio != nil:
		return "traffic by Istio VirtualService " + r.Istio.VirtualService
	case r.SMI != nil:
		return "traffic by SMI TrafficSplit"
	case r.NGINX != nil:
		return "traffic by NGINX Ingress " + r.NGINX.Ingress
	}
	return "an unknown router"
}

// StepState says where the rollout is with canary step i: "done", the
// phase (lower case) at the current step, "aborted here", or "" for a step
// ahead or when no release is under way.
func (st *RolloutStatus) StepState(i int32) string {
	switch {
	case st.Phase == "" || st.Phase == RolloutIdle:
		return ""
	case i < st.CurrentStep:
		return "done"
	case i == st.CurrentStep && st.Phase == RolloutAborted:
		return "aborted here"
	case i == st.CurrentStep:
		return strings.ToLower(string(st.Phase))
	}
	return ""
}
