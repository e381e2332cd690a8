package controller

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

func TestRecordDrift(t *testing.T) {
	web := weirv1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	cfg := weirv1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "cfg"}
	scaled := apply.ObjectDrift{Object: web, Fields: []string{".spec.replicas"}, Managers: []string{"kubectl (scale)"}}
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name        string
		before      []weirv1.DriftedObject
		checked     []weirv1.ObjectRef
		found       []apply.ObjectDrift
		wantObjects []string
		wantSynced  metav1.ConditionStatus
		wantEvents  int
		wantMessage string
	}{
		{"new drift", nil, []weirv1.ObjectRef{web}, []apply.ObjectDrift{scaled},
			[]string{"apps/Deployment shop/web"}, metav1.ConditionFalse, 1, "apps/Deployment shop/web: .spec.replicas changed by kubectl (scale)"},
		{"same drift again is not news", []weirv1.DriftedObject{{Object: web, Fields: scaled.Fields, Managers: scaled.Managers, DetectedAt: earlier}},
			[]weirv1.ObjectRef{web}, []apply.ObjectDrift{scaled}, []string{"apps/Deployment shop/web"}, metav1.ConditionFalse, 0, ""},
		{"unchecked drift stays", []weirv1.DriftedObject{{Object: cfg, Deleted: true, DetectedAt: earlier}},
			[]weirv1.ObjectRef{web}, []apply.ObjectDrift{scaled}, []string{"ConfigMap shop/cfg", "apps/Deployment shop/web"}, metav1.ConditionFalse, 1, "ConfigMap shop/cfg deleted"},
		{"drift undone by hand", []weirv1.DriftedObject{{Object: web, Fields: scaled.Fields, DetectedAt: earlier}},
			[]weirv1.ObjectRef{web}, nil, nil, metav1.ConditionTrue, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recorder := record.NewFakeRecorder(10)
			r := &ApplicationReconciler{Recorder: recorder}
			app := &weirv1.Application{Status: weirv1.ApplicationStatus{Drift: tt.before, LastAppliedRevision: "main@sha1:abc"}}
			if len(tt.before) > 0 {
				setDriftCondition(app)
			}
			r.recordDrift(context.Background(), app, tt.checked, tt.found)
			var objects []string
			for _, d := range app.Status.Drift {
				objects = append(objects, d.Object.String())
			}
			if !slices.Equal(objects, tt.wantObjects) {
				t.Errorf("status.drift = %v, want %v", objects, tt.wantObjects)
			}
			synced := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition)
			if synced == nil || synced.Status != tt.wantSynced {
				t.Errorf("Synced = %v, want %s", synced, tt.wantSynced)
			}
			if synced != nil && !strings.Contains(synced.Message, tt.wantMessage) {
				t.Errorf("Synced message %q does not say %q", synced.Message, tt.wantMessage)
			}
			if len(recorder.Events) != tt.wantEvents {
				t.Errorf("%d events, want %d", len(recorder.Events), tt.wantEvents)
			}
			for _, d := range app.Status.Drift {
				if d.Object == web && len(tt.before) > 0 && tt.wantEvents == 0 && !d.DetectedAt.Equal(&earlier) {
					t.Errorf("DetectedAt moved to %v for a drift seen before", d.DetectedAt)
				}
			}
		})
	}
}
