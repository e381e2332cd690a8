package analysis

import (
	"encoding/json"
	"strings"
	"testing"

	"weir.dev/weir/api/v1alpha1"
)

func TestConditionsJudge(t *testing.T) {
	doc := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name             string
		kind             providerKind
		success, failure string
		result           any
		phase            v1alpha1.AnalysisPhase
		err              string
	}{
		{name: "success only, holds", kind: kindPrometheus, success: "result >= 0.95", result: 0.99, phase: v1alpha1.AnalysisSuccessful},
		{name: "success only, negated", kind: kindPrometheus, success: "result >= 0.95", result: 0.5, phase: v1alpha1.AnalysisFailed},
		{name: "failure only, holds", kind: kindPrometheus, failure: "result < 0.95", result: 0.5, phase: v1alpha1.AnalysisFailed},
		{name: "failure only, negated", kind: kindPrometheus, failure: "result < 0.95", result: 0.99, phase: v1alpha1.AnalysisSuccessful},
		{name: "both, success", kind: kindPrometheus, success: "result > 0.9", failure: "result < 0.5", result: 0.99, phase: v1alpha1.AnalysisSuccessful},
		{name: "both, failure", kind: kindPrometheus, success: "result > 0.9", failure: "result < 0.5", result: 0.1, phase: v1alpha1.AnalysisFailed},
		{name: "both, neither", kind: kindPrometheus, success: "result > 0.9", failure: "result < 0.5", result: 0.7, phase: v1alpha1.AnalysisInconclusive},
		{name: "both hold", kind: kindPrometheus, success: "result > 0.1", failure: "result < 0.9", result: 0.5, phase: v1alpha1.AnalysisInconclusive},
		{name: "an int threshold against a double", kind: kindPrometheus, success: "result <= 500", result: 120.0, phase: v1alpha1.AnalysisSuccessful},
		{name: "web: a field of the document", kind: kindWeb, success: "result.status == 'ok' && result.rate > 0.9", result: doc(`{"status":"ok","rate":0.97}`), phase: v1alpha1.AnalysisSuccessful},
		{name: "web: a JSON number equals an int", kind: kindWeb, failure: "result.errors > 0", result: doc(`{"errors":3}`), phase: v1alpha1.AnalysisFailed},
		{name: "web: a list", kind: kindWeb, success: "result.all(x, x.healthy)", result: doc(`[{"healthy":true},{"healthy":true}]`), phase: v1alpha1.AnalysisSuccessful},
		{name: "web: a missing field is an error", kind: kindWeb, success: "result.missing == 1", result: doc(`{}`), err: "no such key"},
	}
	p, err := newPrograms()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := p.compile(tt.kind, "m", tt.success, tt.failure)
			if err != nil {
				t.Fatal(err)
			}
			phase, why, err := c.judge(tt.result)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || phase != tt.phase {
				t.Fatalf("judge = %s (%s), %v; want %s", phase, why, err, tt.phase)
			}
		})
	}
}

func TestConditionsCompileErrors(t *testing.T) {
	tests := []struct {
		name             string
		kind             providerKind
		success, failure string
		want             []string
	}{
		{name: "syntax", kind: kindPrometheus, success: "result >=", want: []string{`metric "m"`, `successCondition "result >="`}},
		{name: "unknown variable", kind: kindPrometheus, failure: "value < 1", want: []string{`metric "m"`, `failureCondition "value < 1"`, "undeclared reference"}},
		{name: "not a bool", kind: kindPrometheus, success: "result + 1.0", want: []string{`"result + 1.0" yields double, not a bool`}},
		{name: "no condition", kind: kindWeb, want: []string{`metric "m": set successCondition, failureCondition or both`}},
		{name: "a job takes none", kind: kindJob, success: "true", want: []string{"judged by the Job"}},
	}
	p, err := newPrograms()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.compile(tt.kind, "m", tt.success, tt.failure)
			if err == nil {
				t.Fatal("compiled")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestProgramsAreCached(t *testing.T) {
	p, err := newPrograms()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.program(kindPrometheus, "m", "successCondition", "result > 1")
	b, _ := p.program(kindPrometheus, "other", "successCondition", "result > 1")
	if a != b || len(p.cache) != 1 {
		t.Fatalf("the same expression compiled twice (%d programs cached)", len(p.cache))
	}
}
