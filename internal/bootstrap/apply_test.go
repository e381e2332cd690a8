package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// TestCRDsAreServedBeforeWeirsDeployment applies weir's install through a
// client that records the requests, and checks that every CRD is applied
// and read back Established before weir's Deployment is applied: a newer
// weir must not start before the kinds it watches are served.
func TestCRDsAreServedBeforeWeirsDeployment(t *testing.T) {
	objs, err := install()
	if err != nil {
		t.Fatal(err)
	}
	var requests []string
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Get: func(_ context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			u := obj.(*unstructured.Unstructured)
			requests = append(requests, fmt.Sprintf("get %s %s", u.GetKind(), key.Name))
			if u.GetKind() != "CustomResourceDefinition" {
				return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
			}
			return unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": "True"}}, "status", "conditions")
		},
		Apply: func(_ context.Context, _ client.WithWatch, obj runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
			o := obj.(interface {
				GetKind() string
				GetName() string
			})
			requests = append(requests, fmt.Sprintf("apply %s %s", o.GetKind(), o.GetName()))
			return nil
		},
	}).Build()
	if _, err := applyAll(t.Context(), c, objs); err != nil {
		t.Fatal(err)
	}
	deployment := slices.Index(requests, "apply Deployment weir-controller")
	if deployment < 0 {
		t.Fatalf("weir's Deployment was not applied: %v", requests)
	}
	crds := 0
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		crds++
		applied := slices.Index(requests, "apply CustomResourceDefinition "+o.GetName())
		read := slices.Index(requests[applied+1:], "get CustomResourceDefinition "+o.GetName())
		if applied < 0 || read < 0 || applied+1+read > deployment {
			t.Errorf("CRD %s was not applied and read back before weir's Deployment: %v", o.GetName(), requests)
		}
	}
	if crds == 0 {
		t.Fatal("weir's install holds no CRD")
	}
}
