package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/test/fixture"
)

// One tenant's duration in a syntax Go does not parse must not make every
// list of the kind fail to decode (Flux's CVE-2022-39272): the API server
// refuses it, and the lists every controller reads keep decoding.
func TestADurationGoCannotParseIsRefusedByTheAPIServer(t *testing.T) {
	s := given(t, map[string]string{"app.yaml": fixture.ConfigMap("settings", "mode", "production")})
	s.whenApplication(nil)
	ctx := context.Background()
	tests := []struct {
		kind, field string
		spec        map[string]any
	}{
		{"Application", "spec.sync.interval", map[string]any{
			"source": map[string]any{"url": s.repo.URL()},
			"sync":   map[string]any{"interval": "1 hour"},
		}},
		{"Application", "spec.sync.timeout", map[string]any{
			"source": map[string]any{"url": s.repo.URL()},
			"sync":   map[string]any{"timeout": "99999999999h"},
		}},
		{"Rollout", "spec.progressDeadline", map[string]any{
			"targetRef":        map[string]any{"name": "web"},
			"strategy":         map[string]any{"canary": map[string]any{"service": "web", "steps": []any{map[string]any{"pause": map[string]any{"duration": "1m"}}}}},
			"progressDeadline": "1d",
		}},
		{"AnalysisTemplate", "spec.metrics[0].interval", map[string]any{
			"metrics": []any{map[string]any{
				"name": "up", "interval": "30 seconds", "successCondition": "result > 0",
				"provider": map[string]any{"web": map[string]any{"url": "http://127.0.0.1:1/"}},
			}},
		}},
	}
	for _, tt := range tests {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": weirv1.GroupVersion.String(), "kind": tt.kind,
			"metadata": map[string]any{"name": "tenant-typo", "namespace": s.ns},
			"spec":     tt.spec,
		}}
		err := s.c.Create(ctx, obj)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("create %s with a bad %s: %v, want Invalid naming the field", tt.kind, tt.field, err)
		}
	}

	// A duration out of bounds is admitted (the controller holds it within
	// them), and the list still decodes.
	huge := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": weirv1.GroupVersion.String(), "kind": "Application",
		"metadata": map[string]any{"name": "tenant-huge", "namespace": s.ns},
		"spec":     map[string]any{"source": map[string]any{"url": s.repo.URL()}, "sync": map[string]any{"interval": "87600h"}, "suspend": true},
	}}
	if err := s.c.Create(ctx, huge); err != nil {
		t.Fatalf("create an Application with interval 87600h: %v", err)
	}
	var list weirv1.ApplicationList
	if err := s.c.List(ctx, &list); err != nil {
		t.Fatalf("list Applications: %v", err)
	}
	s.thenApplied(s.repo.Head())
}
