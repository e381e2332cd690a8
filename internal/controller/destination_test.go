package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

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

// remoteRolloutsOf answers Drive with err and counts the calls.
type remoteRolloutsOf struct {
	err    error
	drives int
}

func (f *remoteRolloutsOf) Drive(context.Context) error { f.drives++; return f.err }

func (f *remoteRolloutsOf) Released() chan<- event.GenericEvent { return nil }

func TestRolloutsAreDrivenOnTheRemoteClusterThatServesThem(t *testing.T) {
	object := func(gvk schema.GroupVersionKind, name string) *unstructured.Unstructured {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(gvk)
		obj.SetName(name)
		return obj
	}
	rollout := object(weirv1.RolloutKind, "web")
	configMap := object(corev1.SchemeGroupVersion.WithKind("ConfigMap"), "settings")
	crd := object(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"), "rollouts.weir.dev")
	notServed := errors.New("the remote cluster of Secret shop/prod does not serve weir.dev/v1alpha1 Rollouts")
	tests := []struct {
		name       string
		remote     *remoteRolloutsOf // nil for weir's own cluster
		objs       []*unstructured.Unstructured
		wantDrives int
		wantErr    string
	}{
		{name: "weir's own cluster", objs: []*unstructured.Unstructured{configMap, rollout}},
		{name: "a set without a Rollout", remote: &remoteRolloutsOf{err: notServed}, objs: []*unstructured.Unstructured{configMap}},
		{name: "a cluster that serves Rollouts", remote: &remoteRolloutsOf{}, objs: []*unstructured.Unstructured{configMap, rollout}, wantDrives: 1},
		{name: "a cluster without weir's CRDs", remote: &remoteRolloutsOf{err: notServed}, objs: []*unstructured.Unstructured{configMap, rollout},
			wantDrives: 1, wantErr: "rollout web: " + notServed.Error()},
		{name: "a set that brings weir's CRDs", remote: &remoteRolloutsOf{err: notServed}, objs: []*unstructured.Unstructured{crd, rollout}, wantDrives: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &ApplicationReconciler{}
			if tt.remote != nil {
				r.rollouts = tt.remote
			}
			err := r.driveRollouts(t.Context(), tt.objs)
			if got := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && got != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.remote != nil && tt.remote.drives != tt.wantDrives {
				t.Errorf("Drive called %d times, want %d", tt.remote.drives, tt.wantDrives)
			}
		})
	}
}

func TestTheRolloutsAnApplicationAppliedAreDrivenBeforeItsSetIsRead(t *testing.T) {
	for _, tt := range []struct {
		name       string
		inventory  []weirv1.ObjectRef
		wantDrives int
	}{
		{"no Rollout applied", []weirv1.ObjectRef{{Kind: "ConfigMap", Namespace: "shop", Name: "settings"}}, 0},
		{"a Rollout applied", []weirv1.ObjectRef{{Group: "weir.dev", Kind: "Rollout", Namespace: "shop", Name: "web"}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rollouts := &remoteRolloutsOf{}
			r := &ApplicationReconciler{Identities: &identities{}, Drift: &forgetful{},
				Clusters: &fakeClusters{dest: Destination{Identities: &identities{}, Rollouts: rollouts}}}
			app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
			app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: "prod"}}
			app.Status.Inventory = tt.inventory
			acting, err := r.actingFor(t.Context(), app)
			if err != nil {
				t.Fatal(err)
			}
			if rollouts.drives != tt.wantDrives {
				t.Errorf("Drive called %d times, want %d", rollouts.drives, tt.wantDrives)
			}
			if acting.rollouts != rollouts {
				t.Error("the Application does not act with its cluster's Rollouts")
			}
		})
	}
}
