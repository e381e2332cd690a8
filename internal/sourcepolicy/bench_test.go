package sourcepolicy

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// BenchmarkRules500 measures what the policies of TestRulesSpec cost a
// sync of 500 objects: the spec's checks and every object's namespace.
func BenchmarkRules500(b *testing.B) {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
	app.Spec.Source.URL = "git@git.example.com:tenants/team-a/shop.git"
	objs := make([]*unstructured.Unstructured, 500)
	for i := range objs {
		objs[i] = &unstructured.Unstructured{}
		objs[i].SetAPIVersion("v1")
		objs[i].SetKind("ConfigMap")
		objs[i].SetNamespace([]string{"team-a", "team-a-web"}[i%2])
		objs[i].SetName(fmt.Sprint("cm-", i))
	}
	tenant := policies[0]
	tenant.Spec.GitRepositories = append(tenant.Spec.GitRepositories, "ssh://git.example.com/tenants/**")
	for b.Loop() {
		rules, err := Select([]weirv1.SourcePolicy{tenant, policies[1]}, labels.Set{"tenant": "yes"})
		if err == nil {
			err = rules.Spec(app)
		}
		if err == nil {
			err = rules.Objects(app, objs)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
