package controller

import (
	"fmt"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/source"
)

func TestSyncTrigger(t *testing.T) {
	synced := []metav1.Condition{{Type: weirv1.SyncedCondition, Status: metav1.ConditionTrue}}
	failed := []metav1.Condition{{Type: weirv1.SyncedCondition, Status: metav1.ConditionFalse}}
	drifted := []metav1.Condition{{Type: weirv1.SyncedCondition, Status: metav1.ConditionFalse, Reason: ReasonDrifted}}
	tests := []struct {
		name       string
		annotation string
		generation int64
		status     weirv1.ApplicationStatus
		revision   string
		want       string
	}{
		{"nothing changed", "", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: synced}, "r1", ""},
		{"new commit", "", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: synced}, "r2", TriggerRevision},
		{"spec edited", "", 2, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: synced}, "r1", TriggerSpec},
		{"sync requested", "t1", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: synced}, "r1", TriggerManual},
		{"request already handled", "t1", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", LastHandledSyncRequest: "t1", Conditions: synced}, "r1", ""},
		{"last sync failed", "", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: failed}, "r1", TriggerRetry},
		{"first sync", "", 1, weirv1.ApplicationStatus{}, "r1", TriggerRevision},
		{"drifted (healing is checkDrift's call)", "", 1, weirv1.ApplicationStatus{ObservedGeneration: 1, LastAttemptedRevision: "r1", Conditions: drifted}, "r1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{Status: tt.status}
			app.Generation = tt.generation
			if tt.annotation != "" {
				app.Annotations = map[string]string{weirv1.RequestedSyncAnnotation: tt.annotation}
			}
			state := desired.State{Artifact: source.Artifact{Revision: tt.revision}}
			if got := syncTrigger(app, state); got != tt.want {
				t.Errorf("syncTrigger = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddHistoryKeepsTheNewestFirstAndBounded(t *testing.T) {
	app := &weirv1.Application{}
	for i := range weirv1.MaxHistory + 3 {
		addHistory(app, weirv1.SyncRecord{Revision: fmt.Sprint(i)})
	}
	if len(app.Status.History) != weirv1.MaxHistory {
		t.Fatalf("history holds %d records, want %d", len(app.Status.History), weirv1.MaxHistory)
	}
	if first, last := app.Status.History[0].Revision, app.Status.History[weirv1.MaxHistory-1].Revision; first != "12" || last != "3" {
		t.Errorf("history runs from %s to %s, want 12 down to 3", first, last)
	}
}

func TestMergeInventoryKeepsWhatAPartialSyncTouched(t *testing.T) {
	ref := func(name string) weirv1.ObjectRef {
		return weirv1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: name}
	}
	inv := []weirv1.ObjectRef{ref("old"), ref("kept")}
	changes := apply.ChangeSet{
		{Object: ref("new"), Action: apply.Created},
		{Object: ref("kept"), Action: apply.Unchanged},
		{Object: ref("old"), Action: apply.Deleted},
		{Object: ref("foreign"), Action: apply.Skipped},
	}
	got := mergeInventory(inv, changes)
	want := []weirv1.ObjectRef{ref("kept"), ref("new")}
	if !slices.Equal(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
}
