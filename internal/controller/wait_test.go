package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/health"
)

// waitRecorder records the objects each Wait was asked for.
type waitRecorder struct {
	HealthChecker
	waited [][]weirv1.ObjectRef
}

func (w *waitRecorder) Wait(_ context.Context, refs []weirv1.ObjectRef, _ time.Duration) (health.Report, error) {
	w.waited = append(w.waited, refs)
	return health.Report{}, nil
}

func TestAStageWaitsOnlyForWhatIsNotCurrentAsApplied(t *testing.T) {
	object := func(apiVersion, kind, name string, fields map[string]any) *unstructured.Unstructured {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
		for k, v := range fields {
			obj.Object[k] = v
		}
		obj.SetNamespace("shop")
		obj.SetName(name)
		return obj
	}
	config := object("v1", "ConfigMap", "config", map[string]any{"data": map[string]any{"k": "v"}})
	service := object("v1", "Service", "web", map[string]any{"spec": map[string]any{"clusterIP": "10.0.0.1"}})
	available := object("apps/v1", "Deployment", "api", map[string]any{
		"spec": map[string]any{"replicas": int64(1)},
		"status": map[string]any{
			"observedGeneration": int64(1), "replicas": int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1),
			"conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
				map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
			},
		},
	})
	available.SetGeneration(1)
	rolling := available.DeepCopy()
	rolling.SetName("web")
	rolling.SetGeneration(2)
	change := func(obj *unstructured.Unstructured, action apply.Action) apply.Change {
		return apply.Change{Object: apply.Ref(obj), Action: action, Applied: obj}
	}
	unknown := apply.Change{Object: weirv1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "unknown"}, Action: apply.Configured}

	for _, tc := range []struct {
		name    string
		changes apply.ChangeSet
		want    [][]weirv1.ObjectRef
	}{
		{"ConfigMaps, Services and unchanged workloads", apply.ChangeSet{change(config, apply.Configured), change(service, apply.Created), change(available, apply.Unchanged)}, nil},
		{"a Deployment rolling out", apply.ChangeSet{change(config, apply.Configured), change(rolling, apply.Configured)}, [][]weirv1.ObjectRef{{apply.Ref(rolling)}}},
		{"an object the server did not return", apply.ChangeSet{change(config, apply.Configured), unknown}, [][]weirv1.ObjectRef{{unknown.Object}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &waitRecorder{}
			r := &ApplicationReconciler{Health: w}
			if err := r.waitHealthy(context.Background(), &weirv1.Application{}, tc.changes); err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(w.waited, tc.want, slices.Equal) {
				t.Errorf("waited for %v, want %v", w.waited, tc.want)
			}
		})
	}
}
