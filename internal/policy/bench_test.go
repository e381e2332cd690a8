package policy

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// benchRules is how many rules each kind of policy holds, benchObjects how
// many objects the set holds.
const (
	benchRules   = 10
	benchObjects = 500
)

// BenchmarkPolicies measures what policies cost per object of a set: 10
// CEL validations, 10 Conftest Rego rules, and both, on 500 Deployments
// that pass them all (every rule is evaluated).
func BenchmarkPolicies(b *testing.B) {
	set := Set{Objects: make([]Object, benchObjects)}
	for i := range set.Objects {
		objs := objects(b, "deployment.yaml")
		objs[0].Desired.SetName(fmt.Sprintf("web-%d", i))
		set.Objects[i] = objs[0]
	}
	cel, rego := benchCEL(), benchRego()
	for _, bench := range []struct {
		name     string
		policies []Bound
	}{
		{"cel", []Bound{{Policy: cel}}},
		{"rego", []Bound{{Policy: rego}}},
		{"cel+rego", []Bound{{Policy: cel}, {Policy: rego}}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			e := NewEngine()
			for _, p := range bench.policies {
				if err := e.Compile(p.Policy); err != nil {
					b.Fatal(err)
				}
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				if r := e.Evaluate(context.Background(), bench.policies, set); len(r.Denials)+len(r.Warnings) > 0 {
					b.Fatalf("the benchmark set violates its policies: %s", Summary(append(r.Denials, r.Warnings...)))
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			perObject := float64(b.N * benchObjects)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perObject, "ns/object")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/perObject, "B/object")
		})
	}
}

// benchCEL holds benchRules validations that each read the object.
func benchCEL() *weirv1.ClusterSyncPolicy {
	validations := make([]admissionregistrationv1.Validation, benchRules)
	for i := range validations {
		validations[i] = admissionregistrationv1.Validation{
			Expression: fmt.Sprintf("object.spec.replicas <= %d && object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest%d'))", 10+i, i),
			Message:    fmt.Sprintf("rule %d", i),
		}
	}
	p := &weirv1.ClusterSyncPolicy{Spec: weirv1.ClusterSyncPolicySpec{CEL: &weirv1.CELPolicy{
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{Validations: validations},
	}}}
	p.Name, p.UID = "cel", types.UID("cel")
	return p
}

// benchRego holds benchRules Conftest deny rules that each read the object.
func benchRego() *weirv1.ClusterSyncPolicy {
	var src strings.Builder
	src.WriteString("package main\n")
	for i := range benchRules {
		fmt.Fprintf(&src, `
deny_%d contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest%d")
	msg := sprintf("rule %d: %%s", [input.metadata.name])
}
`, i, i, i)
	}
	p := &weirv1.ClusterSyncPolicy{Spec: weirv1.ClusterSyncPolicySpec{Rego: &weirv1.RegoPolicy{
		Modules: map[string]string{"bench.rego": src.String()},
	}}}
	p.Name, p.UID = "rego", types.UID("rego")
	return p
}
