package policy

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// countingReader counts the reads it passes on.
type countingReader struct {
	client.Reader
	reads int
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.reads++
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.reads++
	return r.Reader.List(ctx, list, opts...)
}

// TestACheckReadsNothingWhileNoPolicyIsKnown: with no ClusterSyncPolicy in
// the cache, Check reads nothing from the API server; once one is there,
// it lists them from the API server, as without a cache.
func TestACheckReadsNothingWhileNoPolicyIsKnown(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	shop := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	deny := func() *weirv1.ClusterSyncPolicy {
		return &weirv1.ClusterSyncPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny"},
			Spec: weirv1.ClusterSyncPolicySpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"none": "none"}}}}
	}
	ctx := context.Background()

	known := fake.NewClientBuilder().WithScheme(scheme).Build()
	api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(shop, deny()).Build()}
	c := &Checker{Reader: api, Known: known, Engine: NewEngine()}
	if _, err := c.Check(ctx, app, nil, nil); err != nil || api.reads != 0 {
		t.Errorf("with no policy known, Check = %v and read the API server %d times, want no error and no read", err, api.reads)
	}
	if err := known.Create(ctx, deny()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, app, nil, nil); err != nil || api.reads == 0 {
		t.Errorf("with a policy known, Check = %v and read the API server %d times, want its policies listed there", err, api.reads)
	}
}
