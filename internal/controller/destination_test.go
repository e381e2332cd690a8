package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/identity"
)

// fakeClusters answers For and Reachable as told, and records releases.
type fakeClusters struct {
	dest      Destination
	err       error // of For
	reachable error
	released  []types.NamespacedName
}

func (f *fakeClusters) For(context.Context, *weirv1.Application) (Destination, error) {
	return f.dest, f.err
}

func (f *fakeClusters) Reachable(context.Context, *weirv1.Application) error { return f.reachable }

func (f *fakeClusters) Release(app types.NamespacedName) { f.released = append(f.released, app) }

// forgetful is a DriftWatcher that records whom it forgot.
type forgetful struct {
	DriftWatcher
	forgot []types.NamespacedName
}

func (f *forgetful) Forget(app types.NamespacedName) { f.forgot = append(f.forgot, app) }

func TestAnApplicationActsOnTheClusterItSyncsTo(t *testing.T) {
	remoteIDs := &identities{}
	tests := []struct {
		name       string
		cluster    string
		clusters   fakeClusters
		wantReason string // the reason refused for, if any
		wantStall  bool
		wantRemote bool // acts with the remote cluster's identities
	}{
		{name: "weir's own cluster"},
		{name: "a remote cluster", cluster: "prod", clusters: fakeClusters{dest: Destination{Identities: remoteIDs}}, wantRemote: true},
		{name: "a refused kubeconfig", cluster: "prod",
			clusters:   fakeClusters{err: &cluster.RefusedError{Secret: "shop/prod", Reason: "users[\"ci\"].exec is refused"}},
			wantReason: ReasonClusterRefused, wantStall: true},
		{name: "a Secret that cannot be read", cluster: "prod", clusters: fakeClusters{err: errors.New("secrets \"prod\" not found")},
			wantReason: ReasonClusterRefused},
		{name: "an unreachable cluster", cluster: "prod",
			clusters:   fakeClusters{dest: Destination{Identities: remoteIDs}, reachable: errors.New("unreachable: connection refused")},
			wantReason: ReasonClusterUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, drift := &identities{}, &forgetful{}
			r := &ApplicationReconciler{Identities: local, Clusters: &tt.clusters, Drift: drift}
			app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
			if tt.cluster != "" {
				app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: tt.cluster}}
			}
			acting, err := r.actingFor(t.Context(), app)
			if tt.wantReason != "" {
				if se := (*syncError)(nil); !errors.As(err, &se) || se.reason != tt.wantReason || se.stall != tt.wantStall {
					t.Fatalf("err = %#v, want reason %s, stalled %v", err, tt.wantReason, tt.wantStall)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := acting.Applier.(namedApplier).id
			if want := (identity.Identity{Application: types.NamespacedName{Namespace: "shop", Name: "web"}}); got != want {
				t.Errorf("acts as %+v", got)
			}
			if remote := len(remoteIDs.asked) > 0; remote != tt.wantRemote {
				t.Errorf("acted with the remote cluster's identities: %v, want %v", remote, tt.wantRemote)
			}
			if tt.wantRemote && len(drift.forgot) != 1 {
				t.Error("weir's own drift watches still track an Application of a remote cluster")
			}
			if !tt.wantRemote && len(tt.clusters.released) != 1 {
				t.Error("an Application of weir's own cluster did not release its remote cluster")
			}
			remoteIDs.asked = nil
		})
	}
}

func TestRolloutsAreRefusedOnARemoteCluster(t *testing.T) {
	rollout := &unstructured.Unstructured{}
	rollout.SetGroupVersionKind(weirv1.GroupVersion.WithKind("Rollout"))
	rollout.SetName("web")
	configMap := &unstructured.Unstructured{}
	configMap.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	if err := refuseRemoteRollouts(app, []*unstructured.Unstructured{configMap, rollout}); err != nil {
		t.Fatalf("weir's own cluster: %v", err)
	}
	app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: "prod"}}
	if err := refuseRemoteRollouts(app, []*unstructured.Unstructured{configMap}); err != nil {
		t.Fatalf("a remote cluster without a Rollout: %v", err)
	}
	err := refuseRemoteRollouts(app, []*unstructured.Unstructured{configMap, rollout})
	if err == nil || !strings.Contains(err.Error(), "rollout web: weir drives Rollouts on its own cluster only, and Application shop/web syncs to the remote cluster of Secret prod") {
		t.Fatalf("err = %v", err)
	}
}
