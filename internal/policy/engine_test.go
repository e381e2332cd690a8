package policy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestEvaluate(t *testing.T) {
	prod := map[string]string{"environment": "prod"}
	tests := []struct {
		name        string
		policy      *weirv1.ClusterSyncPolicy
		params      runtime.Object
		nsLabels    map[string]string
		objects     []Object
		wantDenials []string
		wantWarns   []string
	}{{
		name:     "a VAP reads namespaceObject, variables and messageExpression",
		policy:   celPolicy(t, "image-matches-namespace-environment.yaml", ""),
		nsLabels: prod,
		objects:  objects(t, "deployment.yaml", "deployment-bad.yaml", "service.yaml"),
		wantDenials: []string{
			"policy image-matches-namespace-environment.yaml: Deployment shop/api: only prod images are allowed in namespace shop",
		},
	}, {
		name:     "namespaceObject is the namespace the object goes to",
		policy:   celPolicy(t, "image-matches-namespace-environment.yaml", ""),
		nsLabels: map[string]string{"environment": "dev"},
		objects:  objects(t, "deployment.yaml", "deployment-bad.yaml"),
		wantDenials: []string{
			"policy image-matches-namespace-environment.yaml: Deployment shop/web: only dev images are allowed in namespace shop",
		},
	}, {
		name:     "Warn reports and denies nothing",
		policy:   celPolicy(t, "image-matches-namespace-environment.yaml", weirv1.EnforcementWarn),
		nsLabels: prod,
		objects:  objects(t, "deployment-bad.yaml"),
		wantWarns: []string{
			"policy image-matches-namespace-environment.yaml: Deployment shop/api: only prod images are allowed in namespace shop",
		},
	}, {
		name:    "params",
		policy:  celPolicy(t, "replica-limit.yaml", ""),
		params:  &corev1.ConfigMap{Data: map[string]string{"maxReplicas": "4"}},
		objects: objects(t, "deployment.yaml", "deployment-bad.yaml"),
		wantDenials: []string{
			"policy replica-limit.yaml: Deployment shop/api: object.spec.replicas must be no greater than 4",
		},
	}, {
		name:        "oldObject is the live object; a create does not match UPDATE",
		policy:      celPolicy(t, "no-shrink.yaml", ""),
		objects:     withLive(objects(t, "deployment.yaml", "deployment-bad.yaml"), object(t, "deployment-live.yaml")),
		wantDenials: []string{"policy no-shrink.yaml: Deployment shop/web: replicas may not shrink"},
	}, {
		name:        "failurePolicy Fail refuses an object the policy cannot read",
		policy:      celPolicy(t, "fail-on-errors.yaml", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy fail-on-errors.yaml: ConfigMap shop/settings: expression 'object.spec.replicas < 10' resulted in error: no such key: spec"},
	}, {
		name:    "failurePolicy Ignore admits it",
		policy:  celPolicy(t, "ignore-errors.yaml", ""),
		objects: objects(t, "configmap.yaml"),
	}, {
		name:        "a CEL policy that does not compile denies the set",
		policy:      celPolicy(t, "does-not-compile.yaml", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy does-not-compile.yaml: the policy does not compile: validations: compilation failed: ERROR: <input>:1:24: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER} | object.spec.replicas <= | .......................^"},
	}, {
		name:        "the authorizer is not declared",
		policy:      celPolicy(t, "authorizer.yaml", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy authorizer.yaml: the policy does not compile: validations: compilation failed: ERROR: <input>:1:1: undeclared reference to 'authorizer' (in container '') | authorizer.group('').resource('pods').check('create').allowed() | ^"},
	}, {
		name:        "the cost of an expression is bounded as at admission",
		policy:      celPolicy(t, "costly.yaml", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy costly.yaml: ConfigMap shop/settings: expression '" + costly + "' resulted in error: operation cancelled: actual cost limit exceeded"},
	}, {
		name:        "Conftest rules in Rego v0: deny, deny_ suffixed, and warn whatever the enforcement",
		policy:      regoPolicy(t, "conftest-v0", "v0", ""),
		objects:     objects(t, "deployment.yaml", "deployment-bad.yaml", "service.yaml"),
		wantDenials: []string{"policy conftest-v0: Deployment shop/api: Containers must not run as root in Deployment api", "policy conftest-v0: Deployment shop/api: Deployment api must provide app/release labels for pod selectors"},
		wantWarns:   []string{"policy conftest-v0: Service shop/web: Service web is a LoadBalancer"},
	}, {
		name:        "Conftest rules in Rego v1: violation objects with msg",
		policy:      regoPolicy(t, "conftest-v1", "", ""),
		objects:     objects(t, "deployment.yaml", "deployment-bad.yaml", "configmap.yaml"),
		wantDenials: []string{"policy conftest-v1: Deployment shop/api: Deployment api runs dev.example.com/api:latest, an image without a fixed tag"},
		wantWarns:   []string{"policy conftest-v1: Deployment shop/api: Deployment api has no owner label"},
	}, {
		name:      "Rego with Warn enforcement",
		policy:    regoPolicy(t, "conftest-v1", "", weirv1.EnforcementWarn),
		objects:   objects(t, "deployment-bad.yaml"),
		wantWarns: []string{"policy conftest-v1: Deployment shop/api: Deployment api runs dev.example.com/api:latest, an image without a fixed tag", "policy conftest-v1: Deployment shop/api: Deployment api has no owner label"},
	}, {
		name:        "a Rego module that reaches the network does not compile",
		policy:      regoPolicy(t, "unsafe", "", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy unsafe: the policy does not compile: 1 error occurred: policy.rego:4: rego_type_error: unsafe built-in function calls in expression: http.send"},
	}, {
		name:        "Rego without a rule in the namespaces",
		policy:      regoPolicy(t, "no-rules", "", ""),
		objects:     objects(t, "configmap.yaml"),
		wantDenials: []string{"policy no-rules: the policy does not compile: no deny, violation or warn rule in the namespaces [main]"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := &corev1.Namespace{}
			ns.Name, ns.Labels = "shop", tt.nsLabels
			set := Set{Objects: tt.objects, Namespaces: map[string]*corev1.Namespace{"shop": ns}}
			report := NewEngine().Evaluate(context.Background(), []Bound{{Policy: tt.policy, Params: tt.params}}, set)
			if got := texts(report.Denials); !slices.Equal(got, tt.wantDenials) {
				t.Errorf("denials:\n%q\nwant\n%q", got, tt.wantDenials)
			}
			if got := texts(report.Warnings); !slices.Equal(got, tt.wantWarns) {
				t.Errorf("warnings:\n%q\nwant\n%q", got, tt.wantWarns)
			}
		})
	}
}

// costly is the expression of testdata/cel/costly.yaml.
const costly = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, [1,2,3,4,5,6,7,8,9,10].all(g, object.metadata.name.matches('^' + string(a+b+c+d+e+f+g) + '.*$') || true)))))))"

func texts(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

// celPolicy is a ClusterSyncPolicy holding the spec of the
// ValidatingAdmissionPolicy in testdata/cel/file, as it is.
func celPolicy(t testing.TB, file string, enforcement weirv1.Enforcement) *weirv1.ClusterSyncPolicy {
	var vap admissionregistrationv1.ValidatingAdmissionPolicy
	read(t, filepath.Join("testdata", "cel", file), &vap)
	p := &weirv1.ClusterSyncPolicy{Spec: weirv1.ClusterSyncPolicySpec{Enforcement: enforcement, CEL: &weirv1.CELPolicy{Spec: vap.Spec}}}
	p.Name, p.UID = file, types.UID(file)
	return p
}

// regoPolicy is a ClusterSyncPolicy holding the modules of testdata/rego/dir.
func regoPolicy(t testing.TB, dir, version string, enforcement weirv1.Enforcement) *weirv1.ClusterSyncPolicy {
	files, err := filepath.Glob(filepath.Join("testdata", "rego", dir, "*.rego"))
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		modules[filepath.Base(f)] = string(b)
	}
	p := &weirv1.ClusterSyncPolicy{Spec: weirv1.ClusterSyncPolicySpec{Enforcement: enforcement, Rego: &weirv1.RegoPolicy{Modules: modules, RegoVersion: version}}}
	p.Name, p.UID = dir, types.UID(dir)
	return p
}

func read(t testing.TB, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func object(t testing.TB, file string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	read(t, filepath.Join("testdata", "objects", file), &obj.Object)
	return obj
}

// objects are the files in testdata/objects, none of them in the cluster.
func objects(t testing.TB, files ...string) []Object {
	var out []Object
	for _, f := range files {
		obj := object(t, f)
		gvr, _ := meta.UnsafeGuessKindToResource(obj.GroupVersionKind())
		out = append(out, Object{Desired: obj, Resource: gvr})
	}
	return out
}

// withLive gives the first object a live one.
func withLive(objs []Object, live *unstructured.Unstructured) []Object {
	objs[0].Live = live
	return objs
}

func TestCompileOncePerGeneration(t *testing.T) {
	e := NewEngine()
	p := regoPolicy(t, "no-rules", "", "")
	p.Generation = 1
	if err := e.Compile(p); err == nil {
		t.Fatal("a policy without rules compiled")
	}
	fixed := regoPolicy(t, "conftest-v1", "", "")
	p.Spec = fixed.Spec
	if err := e.Compile(p); err == nil {
		t.Error("the policy was compiled again at the same generation")
	}
	p.Generation = 2
	if err := e.Compile(p); err != nil {
		t.Errorf("the policy's next generation: %v", err)
	}
	e.Forget(nil)
	if len(e.cache) != 0 {
		t.Errorf("Forget kept %d programs", len(e.cache))
	}
}
