package policy

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// FuzzCompileRego: modules from a ClusterSyncPolicy, which anyone who may
// write one controls, compile or fail with an error, never a panic.
func FuzzCompileRego(f *testing.F) {
	f.Add("package main\n\ndeny contains msg if {\n\tinput.kind == \"Pod\"\n\tmsg := \"no pods\"\n}\n", "")
	f.Add("package main\n\ndeny[msg] {\n\tinput.kind == \"Pod\"\n\tmsg = \"no pods\"\n}\n", "v0")
	f.Add("package main\n\nwarn_x contains {\"msg\": \"m\"} if true\n", "v1")
	f.Add("package main\n\ndeny contains http.send({}).body if true\n", "")
	f.Fuzz(func(t *testing.T, module, version string) {
		_, _ = compileRego(&weirv1.RegoPolicy{Modules: map[string]string{"policy.rego": module}, RegoVersion: version})
	})
}

// FuzzCompileCEL: expressions compile or fail with an error, never a panic.
func FuzzCompileCEL(f *testing.F) {
	f.Add("object.spec.replicas <= 5", "'too many: ' + string(object.spec.replicas)", "true")
	f.Add("variables.x.all(c, c.image.startsWith('a'))", "", "has(object.metadata.labels)")
	f.Add("object.spec.replicas <=", "", "")
	f.Fuzz(func(t *testing.T, expression, message, match string) {
		spec := admissionregistrationv1.ValidatingAdmissionPolicySpec{
			Variables:   []admissionregistrationv1.Variable{{Name: "x", Expression: "object.spec.template.spec.containers"}},
			Validations: []admissionregistrationv1.Validation{{Expression: expression, MessageExpression: message}},
		}
		if match != "" {
			spec.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "m", Expression: match}}
		}
		_, _ = compileCEL(&weirv1.CELPolicy{Spec: spec})
	})
}
