package multicluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestCanaryOnARemoteCluster: an Application applies a Deployment and its
// Rollout to a remote cluster, where weir drives the Rollout. A good
// release goes out by replica ratio there, is shown and promoted by hand
// with `weir rollout`, which reaches the remote cluster, passes its
// smoke-test Job, which runs there, and is promoted; a bad one fails its
// smoke test, goes back to stable, and weir reverts it in Git, after which
// the remote cluster runs what Git declares.
func TestCanaryOnARemoteCluster(t *testing.T) {
	s := givenRemoteWithWeirsCRDs(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout(smokeTestedSteps, ""),
		"smoke.yaml":   smokeTemplate(true),
	})
	s.repo.Git("config", "receive.denyCurrentBranch", "updateInstead")
	s.whenSyncedAtV1(nil)

	good := s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenRollout("paused at step 1 with weight 25", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CurrentStep == 1 && ro.Status.CanaryWeight == 25
	})
	s.wantReplicas("web", 3, "shop:v1")
	s.wantReplicas("web-canary", 1, "shop:v2")
	app := s.thenApplied(good, time.Minute)
	if p := app.Status.Rollouts; len(p) != 1 || !p[0].Held {
		t.Errorf("Application status.rollouts = %+v, want web held", p)
	}
	if err := s.local.Get(t.Context(), client.ObjectKey{Namespace: s.ns, Name: "web"}, &weirv1.Rollout{}); err == nil {
		t.Error("the Rollout is on weir's cluster too")
	}

	if out := s.weir("rollout", "status", "shop"); !strings.Contains(out, "Paused") || !strings.Contains(out, "25%") {
		t.Errorf("weir rollout status shop printed:\n%s\nwant the Rollout on the remote cluster, paused at 25%%", out)
	}
	s.weir("rollout", "promote", "shop")
	ro := s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
		c := apimeta.FindStatusCondition(ro.Status.Conditions, weirv1.ReadyCondition)
		return ro.Status.Phase == weirv1.RolloutIdle && c != nil && c.Reason == delivery.ReasonPromoted
	})
	s.thenRolloutIdle("shop:v2")
	if run := ro.Status.Analyses; len(run) != 1 || run[0].Phase != weirv1.AnalysisSuccessful {
		t.Errorf("analyses = %+v, want one successful run", run)
	}
	if n := s.smokeJobs(); n != 1 {
		t.Errorf("%d smoke-test Jobs on the remote cluster, want 1", n)
	}

	bad := s.commit("release v3, which fails its smoke test", map[string]string{
		"web.yaml":   fixture.Deployment("web", 4, "shop:v3"),
		"smoke.yaml": smokeTemplate(false),
	})
	s.thenRollout("paused at step 1 with weight 25", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CanaryHash != ro.Status.StableHash
	})
	s.weir("rollout", "promote", "shop")
	ro = s.thenRollout("aborted and reverted", func(ro *weirv1.Rollout) bool {
		f := ro.Status.FailedRevisions
		return len(f) == 1 && f[0].RevertCommit != ""
	})
	failure := ro.Status.FailedRevisions[0]
	if !strings.HasSuffix(failure.Revision, bad) || !strings.Contains(failure.Reason, "smoke") {
		t.Errorf("failed revision %+v: want %s, failing its smoke test", failure, bad)
	}
	if head := s.repo.Head(); head != failure.RevertCommit {
		t.Fatalf("the branch head is %s, want weir's revert %s", head, failure.RevertCommit)
	}
	if msg := s.repo.Git("log", "-1", "--format=%B"); !strings.Contains(msg, "Revert "+bad[:12]) {
		t.Errorf("revert commit message:\n%s", msg)
	}
	s.thenApplied(failure.RevertCommit, time.Minute)
	s.thenRolloutIdle("shop:v2")
	s.wantReplicas("web-canary", -1, "")
}

// TestRemoteClusterWithoutWeirsCRDs: an Application whose set holds a
// Rollout, for a remote cluster that does not serve weir's kinds, is
// refused with a message that names the cluster's Secret and says to
// install weir's CRDs there; nothing of the set is applied.
func TestRemoteClusterWithoutWeirsCRDs(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 1), map[string]string{
		"web.yaml":     fixture.Deployment("web", 2, "shop:v1"),
		"rollout.yaml": canaryRollout(smokeTestedSteps, ""),
	})
	s.whenApplication("remote", nil)
	app := s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "DeliveryFailed")
	want := "rollout web: the remote cluster of Secret " + s.ns + "/remote does not serve weir.dev/v1alpha1 Rollouts: install weir's CRDs there"
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, want) {
		t.Errorf("Ready says %q, want it to hold %q", msg, want)
	}
	s.wantReplicas("web", -1, "")
}

// TestRemoteRolloutActsAsTheApplicationsServiceAccount: the Rollout of an
// Application that names a ServiceAccount is driven on the remote cluster
// as that ServiceAccount there: one granted what the Application applies
// but not Jobs has its smoke-test Job refused by the remote API server,
// which names it.
func TestRemoteRolloutActsAsTheApplicationsServiceAccount(t *testing.T) {
	s := givenRemoteWithWeirsCRDs(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 2, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout("      - setWeight: 50\n      - analysis:\n          templates: [{name: smoke}]\n", ""),
		"smoke.yaml":   smokeTemplate(true),
	})
	s.grantOnRemote("deployer", rbacv1.PolicyRule{APIGroups: []string{"", "apps", "weir.dev"},
		Resources: []string{"services", "deployments", "replicasets", "rollouts", "analysistemplates"}, Verbs: []string{"*"}})
	s.whenSyncedAtV1(func(spec *weirv1.ApplicationSpec) { spec.ServiceAccountName = "deployer" })

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 2, "shop:v2")})
	want := `User \"system:serviceaccount:` + s.ns + `:deployer\" cannot create resource \"jobs\"`
	s.thenRollout("refused its smoke-test Job", func(ro *weirv1.Rollout) bool {
		analyses, _ := json.Marshal(ro.Status.Analyses)
		return strings.Contains(string(analyses), want)
	})
	if n := s.smokeJobs(); n != 0 {
		t.Errorf("%d smoke-test Jobs on the remote cluster, want none", n)
	}
}

// TestRoutedCanaryOnARemoteCluster: a Rollout routed by the NGINX Ingress
// controller's canary annotations writes its canary Ingress on the remote
// cluster, with the step's weight; promotion through a router, the same
// wherever its objects are, is test/e2e's story.
func TestRoutedCanaryOnARemoteCluster(t *testing.T) {
	s := givenRemoteWithWeirsCRDs(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"ingress.yaml": ingress,
		"rollout.yaml": canaryRollout("      - setWeight: 30\n      - pause: {}\n", "        nginx: {ingress: web}\n"),
	})
	s.whenSyncedAtV1(nil)

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenRollout("paused at step 1 with weight 30", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CurrentStep == 1 && ro.Status.CanaryWeight == 30
	})
	canary := &networkingv1.Ingress{}
	if err := s.remote.Get(t.Context(), client.ObjectKey{Namespace: s.ns, Name: "web-canary"}, canary); err != nil {
		t.Fatalf("the canary Ingress on the remote cluster: %v", err)
	}
	if w := canary.Annotations["nginx.ingress.kubernetes.io/canary-weight"]; w != "30" {
		t.Errorf("the canary Ingress has weight %q, want 30", w)
	}
	if err := s.local.Get(t.Context(), client.ObjectKey{Namespace: s.ns, Name: "web-canary"}, &networkingv1.Ingress{}); !apierrors.IsNotFound(err) {
		t.Errorf("the canary Ingress on weir's cluster: %v, want none", err)
	}
}

// TestBlueGreenOnARemoteCluster: a blue/green Rollout on a remote cluster
// runs the new template as a full-size preview there, behind its preview
// Service, until promoted by hand, when the active Service switches to it.
func TestBlueGreenOnARemoteCluster(t *testing.T) {
	s := givenRemoteWithWeirsCRDs(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 3, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"preview.yaml": strings.Replace(fixture.Service("web"), "name: web\n", "name: web-preview\n", 1),
		"rollout.yaml": `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  strategy:
    blueGreen:
      activeService: web
      previewService: web-preview
      autoPromotion: false
      scaleDownDelay: 1s
`,
	})
	s.whenSyncedAtV1(nil)
	blue := s.selects("web")

	s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 3, "shop:v2")})
	s.thenRollout("waiting for promotion", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutPaused })
	s.wantReplicas("web-preview", 3, "shop:v2")
	if got := s.selects("web"); got != blue {
		t.Errorf("the active Service moved before the promotion: %s, want %s", got, blue)
	}

	s.weir("rollout", "promote", "shop")
	s.thenRollout("promoted", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutIdle && ro.Status.StableHash == ro.Status.CanaryHash
	})
	s.thenRolloutIdle("shop:v2")
	if got := s.selects("web"); got == blue || got == "" {
		t.Errorf("the active Service selects pod-template-hash %q after the promotion, the old pods' was %q", got, blue)
	}
}

// givenRemoteWithWeirsCRDs is givenRemote on the first remote cluster,
// with weir's CRDs installed there.
func givenRemoteWithWeirsCRDs(t *testing.T, files map[string]string) *remoteStory {
	t.Helper()
	remote := testenv.Remote(t, 0)
	installWeirCRDs(t, remote)
	return givenRemote(t, remote, files)
}

// whenSyncedAtV1 creates the Application "remote" (edited by edit, if
// not nil) and waits until it applied the repository's head and its
// Rollout is idle on shop:v1.
func (s *remoteStory) whenSyncedAtV1(edit func(*weirv1.ApplicationSpec)) {
	s.t.Helper()
	s.whenApplication("remote", edit)
	s.thenApplied(s.repo.Head(), time.Minute)
	s.thenRolloutIdle("shop:v1")
}

// ingress routes shop.example.com to web-stable, for the NGINX Ingress
// controller.
const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web-stable, port: {number: 80}}
`

// smokeTestedSteps release a quarter of the pods at a time, pausing for a
// person at the first step, then running the smoke test.
const smokeTestedSteps = `      - setWeight: 25
      - pause: {}
      - analysis:
          templates: [{name: smoke}]
      - setWeight: 50
`

// canaryRollout releases Deployment web behind Service web by steps (YAML
// list items, indented for spec.strategy.canary.steps) and, when routing
// is not empty, through that trafficRouting; it reverts in Git a release
// that fails.
func canaryRollout(steps, routing string) string {
	if routing != "" {
		routing = "      trafficRouting:\n" + routing
	}
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  targetRef: {name: web}
  progressDeadline: 1m
  onFailure: {revertInGit: true}
  strategy:
    canary:
      service: web
%s      steps:
%s`, routing, steps)
}

// smokeTemplate is an AnalysisTemplate whose Job smoke-tests the canary.
// kwok completes every Job pod it schedules at once; the Job of a release
// that fails (passing false) fits no node, so that its deadline fails it.
func smokeTemplate(passing bool) string {
	nodes := "{}"
	if !passing {
		nodes = `{weir.dev/no-such-node: "true"}`
	}
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: smoke
spec:
  metrics:
  - name: smoke
    interval: 1s
    provider:
      job:
        spec:
          backoffLimit: 0
          activeDeadlineSeconds: 2
          template:
            spec:
              restartPolicy: Never
              nodeSelector: %s
              containers:
              - {name: smoke, image: smoke:1, args: ["http://{{args.canary-service}}/healthz"]}
`, nodes)
}

// crdsInstalled remembers the remote clusters given weir's CRDs.
var crdsInstalled sync.Map

// installWeirCRDs installs weir's CRDs on remote, once: weir drives
// Rollouts only where its kinds are served.
func installWeirCRDs(t testing.TB, remote *localcluster.Cluster) {
	t.Helper()
	if _, done := crdsInstalled.Load(remote); done {
		return
	}
	if _, err := installCRDs(remote.Config); err != nil {
		t.Fatalf("install weir's CRDs on a remote cluster: %v", err)
	}
	crdsInstalled.Store(remote, true)
}

// thenRollout waits until the Rollout web on the remote cluster satisfies ok.
func (s *remoteStory) thenRollout(what string, ok func(*weirv1.Rollout) bool) *weirv1.Rollout {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	testenv.Eventually(s.t, 2*time.Minute, "Rollout "+what+" on the remote cluster", func(ctx context.Context) error {
		if err := s.remote.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web"}, ro); err != nil {
			return err
		}
		if !ok(ro) {
			return fmt.Errorf("phase %s, step %d, weight %d: %s", ro.Status.Phase, ro.Status.CurrentStep, ro.Status.CanaryWeight, ro.Status.Message)
		}
		return nil
	})
	return ro
}

// thenRolloutIdle waits until the Rollout rests with every pod of the
// stable Deployment web on image.
func (s *remoteStory) thenRolloutIdle(image string) {
	s.t.Helper()
	s.thenRollout("idle", func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutIdle && ro.Status.StableHash != ""
	})
	testenv.Eventually(s.t, time.Minute, "Deployment web on "+image+", available", func(ctx context.Context) error {
		web := &appsv1.Deployment{}
		if err := s.remote.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "web"}, web); err != nil {
			return err
		}
		if got := web.Spec.Template.Spec.Containers[0].Image; got != image || web.Status.AvailableReplicas != *web.Spec.Replicas {
			return fmt.Errorf("%d of %d available, on %s", web.Status.AvailableReplicas, *web.Spec.Replicas, got)
		}
		return nil
	})
}

// wantReplicas checks the replicas and image of a Deployment on the
// remote cluster: -1 and "" for none.
func (s *remoteStory) wantReplicas(name string, replicas int32, image string) {
	s.t.Helper()
	d := &appsv1.Deployment{}
	err := s.remote.Get(s.t.Context(), client.ObjectKey{Namespace: s.ns, Name: name}, d)
	got, img := int32(-1), ""
	if err == nil {
		got, img = *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image
	} else if client.IgnoreNotFound(err) != nil {
		s.t.Fatal(err)
	}
	if got != replicas || img != image {
		s.t.Errorf("Deployment %s on the remote cluster: %d replicas of %q, want %d of %q", name, got, img, replicas, image)
	}
}

// selects is the pod-template-hash that the Service name selects on the
// remote cluster.
func (s *remoteStory) selects(name string) string {
	s.t.Helper()
	svc := &corev1.Service{}
	if err := s.remote.Get(s.t.Context(), client.ObjectKey{Namespace: s.ns, Name: name}, svc); err != nil {
		s.t.Fatal(err)
	}
	return svc.Spec.Selector["pod-template-hash"]
}

// grantOnRemote creates the ServiceAccount name in the story's namespace
// on the remote cluster, with a Role there that grants it rule.
func (s *remoteStory) grantOnRemote(name string, rule rbacv1.PolicyRule) {
	s.t.Helper()
	meta := metav1.ObjectMeta{Namespace: s.ns, Name: name}
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: meta},
		&rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{rule}},
		&rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: s.ns, Name: name}}},
	} {
		if err := s.remote.Create(s.t.Context(), obj); err != nil {
			s.t.Fatalf("grant %s on the remote cluster: %v", name, err)
		}
	}
}

// smokeJobs counts the analysis Jobs of Rollout web on the remote cluster.
func (s *remoteStory) smokeJobs() int {
	s.t.Helper()
	var jobs batchv1.JobList
	if err := s.remote.List(s.t.Context(), &jobs, client.InNamespace(s.ns), client.MatchingLabels{weirv1.RolloutLabel: "web"}); err != nil {
		s.t.Fatal(err)
	}
	return len(jobs.Items)
}
