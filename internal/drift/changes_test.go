package drift

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Second))
)

func entry(manager, subresource string, at metav1.Time, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1",
		Subresource: subresource, Time: &at, FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
}

func object(generation int64, entries ...metav1.ManagedFieldsEntry) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Generation: generation, ManagedFields: entries}}
}

func TestChangedOutside(t *testing.T) {
	weir := entry("weir", "", t0, `{"f:spec":{"f:replicas":{}}}`)
	tests := []struct {
		name     string
		old, obj *metav1.PartialObjectMetadata
		want     bool
	}{
		{"nothing changed", object(1, weir), object(1, weir), false},
		{"status write", object(1, weir), object(1, weir, entry("kube-controller-manager", "status", t1, `{"f:status":{}}`)), false},
		{"weir applied", object(1, weir), object(2, entry("weir", "", t1, `{"f:spec":{"f:replicas":{}}}`)), false},
		{"kubectl scale", object(1, weir), object(2, weir, entry("kubectl", "scale", t1, `{"f:spec":{"f:replicas":{}}}`)), true},
		{"edit by a known manager", object(2, weir, entry("kubectl-edit", "", t0, `{"f:spec":{}}`)),
			object(3, weir, entry("kubectl-edit", "", t1, `{"f:spec":{"f:paused":{}}}`)), true},
		{"field taken from weir", object(1, weir), object(1, entry("weir", "", t0, `{"f:spec":{}}`)), true},
		{"second edit within the second", object(2, weir, entry("kubectl", "", t1, `{"f:spec":{}}`)),
			object(3, weir, entry("kubectl", "", t1, `{"f:spec":{}}`)), true},
		{"deleted (no new object)", object(1, weir), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := changedOutside(tt.old, tt.obj, "weir"); got != tt.want {
				t.Errorf("changedOutside = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOwnWrite(t *testing.T) {
	weir := entry("weir", "", t0, `{"f:spec":{"f:replicas":{}}}`)
	applied := entry("weir", "", t1, `{"f:spec":{"f:replicas":{}}}`)
	status := entry("kube-controller-manager", "status", t0, `{"f:status":{}}`)
	tests := []struct {
		name     string
		old, obj *metav1.PartialObjectMetadata
		want     bool
	}{
		{"weir applied", object(1, weir, status), object(2, applied, status), true},
		{"status write", object(1, weir, status), object(1, weir, entry("kube-controller-manager", "status", t1, `{"f:status":{}}`)), false},
		{"weir applied and a status write", object(1, weir, status),
			object(2, applied, entry("kube-controller-manager", "status", t1, `{"f:status":{}}`)), false},
		{"a status entry appeared", object(1, weir), object(1, weir, status), false},
		{"nothing in managedFields changed (a deletion started)", object(1, weir), object(1, weir), false},
		{"field taken from weir", object(1, weir), object(1, entry("weir", "", t0, `{"f:spec":{}}`)), false},
		{"kubectl scale", object(1, weir), object(2, weir, entry("kubectl", "scale", t1, `{"f:spec":{"f:replicas":{}}}`)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownWrite(tt.old, tt.obj, "weir"); got != tt.want {
				t.Errorf("ownWrite = %v, want %v", got, tt.want)
			}
		})
	}
}
