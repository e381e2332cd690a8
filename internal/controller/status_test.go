package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// TestAStatusThatDidNotChangeIsNotPatched: a reconcile that changed
// nothing in the status, as at rest, sends no patch; one that did sends it.
func TestAStatusThatDidNotChangeIsNotPatched(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "shop"}}
	app.Status.LastAppliedRevision = "main@sha1:aaaa"
	patches := 0
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(app).WithStatusSubresource(app).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				patches++
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	r := &ApplicationReconciler{Client: c}
	ctx := context.Background()

	before := app.DeepCopy()
	if err := r.patchStatus(ctx, app, before); err != nil {
		t.Fatal(err)
	}
	if patches != 0 {
		t.Errorf("%d status patches for an unchanged status, want 0", patches)
	}
	app.Status.LastAppliedRevision = "main@sha1:bbbb"
	if err := r.patchStatus(ctx, app, before); err != nil {
		t.Fatal(err)
	}
	var got weirv1.Application
	if err := c.Get(ctx, client.ObjectKeyFromObject(app), &got); err != nil {
		t.Fatal(err)
	}
	if patches != 1 || got.Status.LastAppliedRevision != "main@sha1:bbbb" {
		t.Errorf("%d patches, status %q after a change, want 1 and the new revision", patches, got.Status.LastAppliedRevision)
	}
}
