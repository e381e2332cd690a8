package delivery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
)

// webDeployment reads testdata/web-deployment.yaml: Git's Deployment web,
// 4 replicas of shop:v2.
func webDeployment(t *testing.T) (*unstructured.Unstructured, *appsv1.Deployment) {
	t.Helper()
	data, err := os.ReadFile("testdata/web-deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	d, err := deploymentOf(u)
	if err != nil {
		t.Fatal(err)
	}
	return u, d
}

func TestTemplateHash(t *testing.T) {
	_, d := webDeployment(t)
	same := d.DeepCopy()
	other := d.DeepCopy()
	other.Spec.Template.Spec.Containers[0].Image = "shop:v3"
	relabelled := d.DeepCopy()
	relabelled.Spec.Template.Labels["tier"] = "front"
	tests := []struct {
		name  string
		other *appsv1.Deployment
		equal bool
	}{
		{"the same template", same, true},
		{"another image", other, false},
		{"another label", relabelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := TemplateHash(&d.Spec.Template), TemplateHash(&tt.other.Spec.Template)
			if (a == b) != tt.equal || len(a) != 10 {
				t.Errorf("hashes %s and %s; want equal: %t, 10 characters", a, b, tt.equal)
			}
		})
	}
}

func TestCanaryReplicas(t *testing.T) {
	tests := []struct{ replicas, weight, want int32 }{
		{4, 0, 1}, {4, 25, 1}, {4, 30, 2}, {4, 50, 2}, {4, 100, 4}, {3, 10, 1}, {10, 33, 4}, {1, 100, 1},
	}
	for _, tt := range tests {
		if got := canaryReplicas(tt.replicas, tt.weight); got != tt.want {
			t.Errorf("canaryReplicas(%d, %d) = %d, want %d", tt.replicas, tt.weight, got, tt.want)
		}
	}
}

func TestCommitOf(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct{ revision, want string }{
		{"main@sha1:" + sha, sha},
		{"sha1:" + sha, sha},
		{"v1.2.0@sha1:" + sha + ", chart web@1.4.2", sha},
		{"main@sha1:0123", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := commitOf(tt.revision); got != tt.want {
			t.Errorf("commitOf(%q) = %q, want %q", tt.revision, got, tt.want)
		}
	}
}

func TestTakeRequestActsOnEachValueOnce(t *testing.T) {
	d := &Driver{}
	ro := &v1alpha1.Rollout{}
	steps := []struct {
		value string // "" removes the annotation
		want  bool
	}{
		{"", false}, {"t1", true}, {"t1", false}, {"t2", true}, {"", false}, {"t2", true},
	}
	for i, step := range steps {
		ro.Annotations = map[string]string{}
		if step.value != "" {
			ro.Annotations[v1alpha1.PromoteAnnotation] = step.value
		} else {
			ro.Status.HandledRequests = nil
		}
		if got := d.takeRequest(ro, v1alpha1.PromoteAnnotation); got != step.want {
			t.Errorf("step %d (%q): takeRequest = %t, want %t", i, step.value, got, step.want)
		}
	}
}

func TestNewCopy(t *testing.T) {
	_, desired := webDeployment(t)
	tests := []struct {
		name     string
		strategy v1alpha1.RolloutStrategy
		copyName string
		role     string
	}{
		{"canary", v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Service: "web"}}, "web-canary", RoleCanary},
		{"blue/green", v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "web", PreviewService: "web-preview"}}, "web-preview", RolePreview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "u1"}}
			ro.Spec.TargetRef.Name, ro.Spec.Strategy = "web", tt.strategy
			rel := Release{Hash: "abc", Revision: "main@sha1:2", PreviousRevision: "main@sha1:1"}
			cp := newCopy(ro, desired, rel)
			if cp.Name != tt.copyName || *cp.Spec.Replicas != 0 {
				t.Errorf("copy %s with %d replicas, want %s with 0", cp.Name, *cp.Spec.Replicas, tt.copyName)
			}
			if cp.Spec.Selector.MatchLabels[v1alpha1.RoleLabel] != tt.role || cp.Spec.Template.Labels[v1alpha1.RoleLabel] != tt.role || cp.Spec.Template.Labels["app"] != "web" {
				t.Errorf("selector %v and pod labels %v, want app=web and role %s", cp.Spec.Selector.MatchLabels, cp.Spec.Template.Labels, tt.role)
			}
			if desired.Spec.Template.Labels[v1alpha1.RoleLabel] != "" || desired.Spec.Selector.MatchLabels[v1alpha1.RoleLabel] != "" {
				t.Error("newCopy changed the desired Deployment's labels")
			}
			a := cp.Annotations
			if a[v1alpha1.TemplateHashAnnotation] != "abc" || a[v1alpha1.RevisionAnnotation] != "main@sha1:2" || a[v1alpha1.PreviousRevisionAnnotation] != "main@sha1:1" || a[ReplicasAnnotation] != "4" {
				t.Errorf("annotations %v", a)
			}
			if owner := metav1.GetControllerOf(cp); owner == nil || owner.UID != "u1" || owner.Kind != "Rollout" {
				t.Errorf("owner %v, want the Rollout", owner)
			}
		})
	}
}

func TestKeepLiveHoldsTheStableTemplateAndReplicas(t *testing.T) {
	applied := metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply,
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{},"f:template":{}}}`)}}
	scaled := metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}}
	appliedTemplateOnly := applied
	appliedTemplateOnly.FieldsV1 = &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:template":{}}}`)}
	tests := []struct {
		name     string
		managers []metav1.ManagedFieldsEntry
		replicas int64 // in the apply; 0: left out
	}{
		{"weir's apply owns the replicas", []metav1.ManagedFieldsEntry{applied}, 3},
		{"a rollout scaled the Deployment", []metav1.ManagedFieldsEntry{appliedTemplateOnly, scaled}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, _ := webDeployment(t)
			_, stable := webDeployment(t)
			stable.Spec.Template.Spec.Containers[0].Image = "shop:v1"
			stable.Spec.Replicas = ptr.To(int32(3))
			stable.ManagedFields = tt.managers
			if err := keepLive(target, stable); err != nil {
				t.Fatal(err)
			}
			replicas, _, _ := unstructured.NestedInt64(target.Object, "spec", "replicas")
			if replicas != tt.replicas {
				t.Errorf("the apply holds %d replicas, want %d", replicas, tt.replicas)
			}
			held, err := deploymentOf(target)
			if err != nil {
				t.Fatal(err)
			}
			if TemplateHash(&held.Spec.Template) != TemplateHash(&stable.Spec.Template) {
				t.Errorf("the held template (%s) is not the live one", held.Spec.Template.Spec.Containers[0].Image)
			}
		})
	}
}

func TestSoonest(t *testing.T) {
	tests := []struct {
		res  time.Duration
		wait time.Duration
		want time.Duration
	}{
		{0, 0, 0}, {0, time.Second, time.Second}, {2 * time.Second, time.Second, time.Second}, {time.Second, 3 * time.Second, time.Second}, {time.Second, 0, time.Second},
	}
	for _, tt := range tests {
		if got := soonest(Result{RequeueAfter: tt.res}, tt.wait).RequeueAfter; got != tt.want {
			t.Errorf("soonest(%s, %s) = %s, want %s", tt.res, tt.wait, got, tt.want)
		}
	}
}

func TestResting(t *testing.T) {
	ready := []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonPromoted}}
	stalled := []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: "TargetNotFound"}}
	tests := []struct {
		name   string
		status v1alpha1.RolloutStatus
		want   bool
	}{
		{"promoted on the stable hash", v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutIdle, StableHash: "a", Conditions: ready}, true},
		{"stable hash moved", v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutIdle, StableHash: "b", Conditions: ready}, false},
		{"was stalled", v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutIdle, StableHash: "a", Conditions: stalled}, false},
		{"was aborted", v1alpha1.RolloutStatus{Phase: v1alpha1.RolloutAborted, StableHash: "a", Conditions: ready}, false},
		{"new", v1alpha1.RolloutStatus{}, false},
	}
	for _, tt := range tests {
		if got := resting(&tt.status, "a"); got != tt.want {
			t.Errorf("%s: resting = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRevertWait(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		attempts int32
		last     *metav1.Time
		now      time.Time
		want     time.Duration
	}{
		{"never tried", 0, nil, at, 0},
		{"just failed once", 1, &metav1.Time{Time: at}, at, 5 * time.Second},
		{"failed once, 2s ago", 1, &metav1.Time{Time: at}, at.Add(2 * time.Second), 3 * time.Second},
		{"failed three times", 3, &metav1.Time{Time: at}, at, 20 * time.Second},
		{"overdue", 2, &metav1.Time{Time: at}, at.Add(time.Minute), -50 * time.Second},
	}
	for _, tt := range tests {
		f := &v1alpha1.FailedRevision{RevertAttempts: tt.attempts, LastRevertAttempt: tt.last}
		if got := revertWait(f, tt.now); got != tt.want {
			t.Errorf("%s: revertWait = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestCannotPass(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("revert: %w", &gitwrite.ConflictError{Paths: []string{"web.yaml"}}), true},
		{fmt.Errorf("revert: %w", gitwrite.ErrAlreadyReverted), true},
		{fmt.Errorf("%w: Application shop/web deploys tag v1, not a branch", errCannotRevert), true},
		{errors.New("push to file:///repo: remote rejected"), false},
		{fmt.Errorf("read Application shop/web: %w", context.DeadlineExceeded), false},
	}
	for _, tt := range tests {
		if got := cannotPass(tt.err); got != tt.want {
			t.Errorf("cannotPass(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestPromotesOnlyWithAllTrafficOnTheCanary: a sync gives the stable
// Deployment the promoted template only once a routed canary serves all
// the traffic, since the stable Service then follows the new pods, not
// Ready yet; without a router, or for blue/green, at once.
func TestPromotesOnlyWithAllTrafficOnTheCanary(t *testing.T) {
	routing := &v1alpha1.TrafficRouting{GatewayAPI: &v1alpha1.GatewayAPIRouting{HTTPRoute: "web"}}
	rollout := func(phase v1alpha1.RolloutPhase, strategy v1alpha1.RolloutStrategy, weight int32) *v1alpha1.Rollout {
		return &v1alpha1.Rollout{
			Spec:   v1alpha1.RolloutSpec{Strategy: strategy},
			Status: v1alpha1.RolloutStatus{Phase: phase, CanaryHash: "new", CanaryWeight: weight},
		}
	}
	routed := v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Service: "web", TrafficRouting: routing}}
	ratio := v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Service: "web"}}
	blueGreen := v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{ActiveService: "web", PreviewService: "web-preview"}}
	tests := []struct {
		name string
		ro   *v1alpha1.Rollout
		hash string
		want bool
	}{
		{"routed, weight 80 still on stable", rollout(v1alpha1.RolloutPromoting, routed, 80), "new", false},
		{"routed, all traffic on the canary", rollout(v1alpha1.RolloutPromoting, routed, 100), "new", true},
		{"routed, another template", rollout(v1alpha1.RolloutPromoting, routed, 100), "other", false},
		{"routed, paused at 100", rollout(v1alpha1.RolloutPaused, routed, 100), "new", false},
		{"replica ratio", rollout(v1alpha1.RolloutPromoting, ratio, 80), "new", true},
		{"blue/green", rollout(v1alpha1.RolloutPromoting, blueGreen, 100), "new", true},
	}
	for _, tt := range tests {
		if got := promotes(tt.ro, tt.hash); got != tt.want {
			t.Errorf("%s: promotes = %v, want %v", tt.name, got, tt.want)
		}
	}
}
