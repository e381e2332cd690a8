package cluster

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// application is an Application of namespace shop syncing to the cluster
// of Secret secret, or to weir's own for "".
func application(name, secret string) *weirv1.Application {
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}}
	if secret != "" {
		app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: secret}}
	}
	return app
}

func TestApplicationsAreThoseOfOneCluster(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := weirv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(application("local", ""), application("eu", "prod-eu"), application("us", "prod-us")).Build()
	tests := []struct {
		cluster   types.NamespacedName
		want      string // the Application Get finds and List lists
		wantError string // of Get of the others
	}{
		{types.NamespacedName{}, "local", "syncs to the remote cluster of Secret shop/prod-eu, not to weir's own cluster"},
		{types.NamespacedName{Namespace: "shop", Name: "prod-eu"}, "eu", "not to the remote cluster of Secret shop/prod-eu"},
		{types.NamespacedName{Namespace: "other", Name: "prod-eu"}, "", "not to the remote cluster of Secret other/prod-eu"},
	}
	for _, tt := range tests {
		t.Run(tt.cluster.String(), func(t *testing.T) {
			apps := Applications{Reader: reader, Secret: tt.cluster}
			for _, name := range []string{"local", "eu", "us"} {
				err := apps.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: name}, &weirv1.Application{})
				switch {
				case name == tt.want && err != nil:
					t.Errorf("Get %s: %v", name, err)
				case name != tt.want && !apierrors.IsNotFound(err):
					t.Errorf("Get %s: %v, want NotFound", name, err)
				case name == "eu" && name != tt.want && !strings.Contains(err.Error(), tt.wantError):
					t.Errorf("Get %s: %v, want it to say %q", name, err, tt.wantError)
				}
			}
			var list weirv1.ApplicationList
			if err := apps.List(t.Context(), &list); err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, app := range list.Items {
				listed = append(listed, app.Name)
			}
			if got := strings.Join(listed, ","); got != tt.want {
				t.Errorf("List = %q, want %q", got, tt.want)
			}
		})
	}
}
