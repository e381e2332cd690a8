package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// replicaLimit is a ValidatingAdmissionPolicy's spec, as a team runs it at
// admission: Deployments of at most params.maxReplicas replicas.
var replicaLimit = admissionregistrationv1.ValidatingAdmissionPolicySpec{
	MatchConstraints: &admissionregistrationv1.MatchResources{
		ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
			RuleWithOperations: admissionregistrationv1.RuleWithOperations{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
			},
		}},
	},
	Validations: []admissionregistrationv1.Validation{{
		Expression:        "object.spec.replicas <= int(params.data.maxReplicas)",
		MessageExpression: "'replicas must be no greater than ' + params.data.maxReplicas",
	}},
}

// givenClusterPolicy creates a ClusterSyncPolicy that binds only the
// story's namespace (tests run side by side) and is deleted at the end.
func (s *story) givenClusterPolicy(name string, spec weirv1.ClusterSyncPolicySpec) *weirv1.ClusterSyncPolicy {
	s.t.Helper()
	spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: s.ns}}
	p := &weirv1.ClusterSyncPolicy{ObjectMeta: metav1.ObjectMeta{Name: s.ns + "-" + name}, Spec: spec}
	if err := s.c.Create(context.Background(), p); err != nil {
		s.t.Fatalf("create ClusterSyncPolicy: %v", err)
	}
	s.t.Cleanup(func() { _ = s.c.Delete(context.Background(), p) })
	return p
}

func TestADenyPolicyRefusesTheSyncAndNothingIsApplied(t *testing.T) {
	s := given(t, map[string]string{
		"settings.yaml": fixture.ConfigMap("settings", "mode", "fast"),
		"web.yaml":      fixture.Deployment("web", 5, "nginx:1.27"),
	})
	if err := s.c.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "replica-limit"},
		Data:       map[string]string{"maxReplicas": "3"},
	}); err != nil {
		t.Fatal(err)
	}
	p := s.givenClusterPolicy("replicas", weirv1.ClusterSyncPolicySpec{CEL: &weirv1.CELPolicy{
		Spec:     replicaLimit,
		ParamRef: &weirv1.ObjectKeyReference{Namespace: s.ns, Name: "replica-limit"},
	}})
	s.whenApplication(nil)

	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "PolicyViolation")
	want := "policy " + p.Name + ": Deployment " + s.ns + "/web: replicas must be no greater than 3"
	if msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition).Message; !strings.Contains(msg, want) {
		t.Errorf("Ready says %q, want it to say %q", msg, want)
	}
	if len(app.Status.History) == 0 || !strings.Contains(app.Status.History[0].Summary, want) {
		t.Errorf("history %v does not say %q", app.Status.History, want)
	}
	s.thenEvent("PolicyViolation", want)
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "settings"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused set applied the ConfigMap of its first stage (get: %v)", err)
	}

	testenv.Eventually(t, time.Minute, "the policy's status says it compiles", func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		if !apimeta.IsStatusConditionTrue(p.Status.Conditions, weirv1.ReadyCondition) {
			return fmt.Errorf("conditions: %v", p.Status.Conditions)
		}
		return nil
	})

	// Within the limit, the next revision syncs.
	s.thenApplied(s.commit("fewer replicas", map[string]string{"web.yaml": fixture.Deployment("web", 3, "nginx:1.27")}))
}

func TestAWarnPolicyAppliesAndReports(t *testing.T) {
	s := given(t, map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "fast")})
	p := s.givenClusterPolicy("owner", weirv1.ClusterSyncPolicySpec{
		Enforcement: weirv1.EnforcementWarn,
		Rego: &weirv1.RegoPolicy{Modules: map[string]string{"owner.rego": `package main

deny contains msg if {
	not input.metadata.labels.owner
	msg := sprintf("%s %s has no owner label", [input.kind, input.metadata.name])
}
`}},
	})
	s.whenApplication(nil)

	app := s.thenApplied(s.repo.Head())
	want := "policy " + p.Name + ": ConfigMap " + s.ns + "/settings: ConfigMap settings has no owner label"
	if msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition).Message; !strings.Contains(msg, want) {
		t.Errorf("Synced says %q, want it to say %q", msg, want)
	}
	if !strings.Contains(app.Status.History[0].Summary, want) {
		t.Errorf("history says %q, want %q", app.Status.History[0].Summary, want)
	}
	s.thenEvent("PolicyWarning", want)
}

func TestAnApplicationAuthorCannotRemoveAClusterPolicy(t *testing.T) {
	s := given(t, map[string]string{"web.yaml": fixture.Deployment("web", 5, "nginx:1.27")})
	p := s.givenClusterPolicy("replicas", weirv1.ClusterSyncPolicySpec{CEL: &weirv1.CELPolicy{
		Spec:   replicaLimit,
		Params: &apiextensionsv1.JSON{Raw: []byte(`{"data": {"maxReplicas": "2"}}`)},
	}})
	// The author administers the namespace, and nothing else.
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "author-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "author"}},
	}
	if err := s.c.Create(context.Background(), binding); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config(t)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "author"}
	author, err := client.New(cfg, client.Options{Scheme: s.c.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	s.whenApplication(nil)
	s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "PolicyViolation")

	ctx := context.Background()
	if err := author.Delete(ctx, p.DeepCopy()); !apierrors.IsForbidden(err) {
		t.Errorf("the author deleted the policy, or failed otherwise: %v", err)
	}
	edited := p.DeepCopy()
	edited.Spec.Enforcement = weirv1.EnforcementWarn
	if err := author.Update(ctx, edited); !apierrors.IsForbidden(err) {
		t.Errorf("the author edited the policy, or failed otherwise: %v", err)
	}
	// Nor can the author move the namespace out of the selector.
	ns := &corev1.Namespace{}
	if err := author.Get(ctx, client.ObjectKey{Name: s.ns}, ns); err != nil {
		t.Fatal(err)
	}
	ns.Labels[corev1.LabelMetadataName] = "elsewhere"
	if err := author.Update(ctx, ns); !apierrors.IsForbidden(err) {
		t.Errorf("the author relabelled the namespace, or failed otherwise: %v", err)
	}
	// What the author can change, the Application and Git, does not
	// escape the policy either: the next revision is refused too.
	s.commit("more replicas", map[string]string{"web.yaml": fixture.Deployment("web", 6, "nginx:1.27")})
	app := s.waitFor("refused at the new revision", func(app *weirv1.Application) bool {
		return strings.HasSuffix(app.Status.LastAttemptedRevision, s.repo.Head()) &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.StalledCondition)
	})
	if app.Status.LastAppliedRevision != "" {
		t.Errorf("a revision was applied: %s", app.Status.LastAppliedRevision)
	}
}

func TestAPolicyThatDoesNotCompileSaysSoAndRefusesTheSetsItBinds(t *testing.T) {
	s := given(t, map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "fast")})
	p := s.givenClusterPolicy("broken", weirv1.ClusterSyncPolicySpec{
		Rego: &weirv1.RegoPolicy{Modules: map[string]string{"broken.rego": "package main\n\ndeny contains msg if {\n"}},
	})
	testenv.Eventually(t, time.Minute, "the policy's status says it does not compile", func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(p.Status.Conditions, weirv1.ReadyCondition)
		if c == nil || c.Reason != "CompileFailed" || !strings.Contains(c.Message, "broken.rego:") {
			return fmt.Errorf("conditions: %v", p.Status.Conditions)
		}
		return nil
	})
	s.whenApplication(nil)

	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "PolicyViolation")
	want := "policy " + p.Name + ": the policy does not compile: "
	if msg := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition).Message; !strings.Contains(msg, want) {
		t.Errorf("Ready says %q, want it to say %q", msg, want)
	}
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "settings"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("a set bound by a policy that does not compile was applied (get: %v)", err)
	}
}

func TestARefusedApplicationSyncsOnceThePolicyLetsIt(t *testing.T) {
	s := given(t, map[string]string{"web.yaml": fixture.Deployment("web", 5, "nginx:1.27")})
	p := s.givenClusterPolicy("replicas", weirv1.ClusterSyncPolicySpec{CEL: &weirv1.CELPolicy{
		Spec:   replicaLimit,
		Params: &apiextensionsv1.JSON{Raw: []byte(`{"data": {"maxReplicas": "2"}}`)},
	}})
	// Polls far apart: only the policy's change can bring the next sync.
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Sync.Interval = &metav1.Duration{Duration: time.Hour} })
	s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "PolicyViolation")

	before := p.DeepCopy()
	p.Spec.Enforcement = weirv1.EnforcementWarn
	if err := s.c.Patch(context.Background(), p, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	app := s.thenApplied(s.repo.Head())
	if want := "replicas must be no greater than 2"; !strings.Contains(app.Status.History[0].Summary, want) {
		t.Errorf("history says %q, want the warning %q", app.Status.History[0].Summary, want)
	}
}
