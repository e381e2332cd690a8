package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/image"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/internal/version"
)

// earlierCommit is the weir that TestWeirUpgradedMidRollout upgrades
// from: main before the ImageUpdate, Notification and Pipeline kinds, whose
// CRDs the upgrade must add before the weir that watches them starts.
const earlierCommit = "286eae652b46fe24c403b81c15964fabaa7145d3"

// canarySteps: a quarter of the pods, a pause until promoted, half, and
// another pause until promoted.
const canarySteps = `      - setWeight: 25
      - pause: {}
      - setWeight: 50
      - pause: {}
`

// TestWeirUpgradedMidRollout installs the weir of earlierCommit, its image
// built from that commit's source and its config/default, with two
// Applications and a Rollout paused at its last step, and upgrades it to
// this checkout as the README says: the CRDs first, then config/default.
// The CRDs are this checkout's before the new weir runs, and its pods never
// restart; the new weir syncs both Applications without changing or
// pruning any object; the Rollout stays at its step, its pods keep running,
// and the next promotion finishes it. Then weir is uninstalled as the
// README says, with a release in flight: the Rollout's finalizer is
// released by the running weir, which puts the workload back on stable, and
// no namespace is left Terminating.
func TestWeirUpgradedMidRollout(t *testing.T) {
	c := startRealNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if t.Failed() {
			reportPods(t, c)
		}
	})
	earlier := earlierSource(t, ctx)
	t.Logf("the image of %s built in %s", earlierCommit[:12], loadWeirImage(t, c, earlier).Round(time.Second))
	t.Logf("the image of this checkout built in %s", loadWeirImage(t, c, thisCheckout(t)).Round(time.Second))
	loadHelloImage(t, ctx, c)
	s := upgradeStory{t: t, ctx: ctx, c: c, cl: weirClient(t, c)}

	mustKubectl(t, ctx, c, "apply", "-k", onRealNode(t, filepath.Join(earlier.dir, "config/default"), earlier.tag))
	s.weirPods(earlier.tag)
	s.releaseMidRollout()
	objects := s.snapshot()
	pods := s.webPods()
	paused := s.rollout().Status

	s.upgrade()
	s.weirPods(version.Version)
	s.crdsAreThisCheckouts()
	s.syncedByTheNewWeir()
	if after := s.snapshot(); !reflect.DeepEqual(after, objects) {
		t.Errorf("the upgrade changed synced objects:\nbefore %v\nafter  %v", objects, after)
	}
	if after := s.webPods(); !reflect.DeepEqual(after, pods) {
		t.Errorf("the upgrade restarted pods of the workload:\nbefore %v\nafter  %v", pods, after)
	}
	if now := s.rollout().Status; now.CurrentStep != 3 || now.CanaryWeight != 50 || !now.StepStartedAt.Equal(paused.StepStartedAt) || !now.PauseStartedAt.Equal(paused.PauseStartedAt) {
		t.Errorf("after the upgrade the Rollout is at step %d, weight %d, step started %v, pause %v; was at step 3, weight 50, %v, %v",
			now.CurrentStep, now.CanaryWeight, now.StepStartedAt, now.PauseStartedAt, paused.StepStartedAt, paused.PauseStartedAt)
	}
	s.promote()
	s.awaitRollout("promoted, idle on release v2", func(st weirv1.RolloutStatus) bool {
		return st.Phase == weirv1.RolloutIdle && s.webRelease() == "v2"
	})

	s.commitWeb("v3")
	s.awaitRollout("paused at step 1 with weight 25", pausedAt(1, 25))
	s.uninstall()
}

// earlierSource is the source tree of earlierCommit, from `git archive`
// of this repository (which needs its history: a shallow clone lacks it).
func earlierSource(t testing.TB, ctx context.Context) weirSource {
	t.Helper()
	if !hasCommit(ctx, earlierCommit) && isShallow(ctx) {
		t.Skipf("this clone is shallow and lacks %s, the earlier release the upgrade starts from: fetch the history (git fetch --unshallow)", earlierCommit)
	}
	dir := t.TempDir()
	// From the repository's root: in a subdirectory, git archive takes
	// only that subdirectory.
	archive := exec.CommandContext(ctx, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", earlierCommit, dir)
	archive.Dir = "../.."
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s (fetch the repository's history): %v\n%s", earlierCommit, err, out)
	}
	when, err := exec.CommandContext(ctx, "git", "log", "-1", "--format=%ct", earlierCommit).Output()
	if err != nil {
		t.Fatal(err)
	}
	seconds, err := strconv.ParseInt(strings.TrimSpace(string(when)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	src := image.Source{Revision: earlierCommit, Time: time.Unix(seconds, 0).UTC(), URL: "https://github.com/weir-dev/weir"}
	return weirSource{dir: dir, source: src, tag: earlierCommit[:12]}
}

// hasCommit says whether this repository holds commit.
func hasCommit(ctx context.Context, commit string) bool {
	return exec.CommandContext(ctx, "git", "cat-file", "-e", commit+"^{commit}").Run() == nil
}

// isShallow says whether this repository is a shallow clone.
func isShallow(ctx context.Context) bool {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--is-shallow-repository").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// weirClient is a client of c that knows weir's kinds and CRDs.
func weirClient(t testing.TB, c realCluster) client.Client {
	t.Helper()
	scheme := testenv.Scheme()
	for _, add := range []func(*runtime.Scheme) error{weirv1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := client.New(c.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// upgradeStory is weir installed on the real node with the Applications
// settings and web of namespace shop, and web's Rollout.
type upgradeStory struct {
	t    *testing.T
	ctx  context.Context
	c    realCluster
	cl   client.Client
	repo podRepo
}

// weirPods waits until weir runs as two Ready pods of the image tagged tag
// and no other, one of them the leader.
func (s *upgradeStory) weirPods(tag string) {
	s.t.Helper()
	want := weirRepository + ":" + tag
	eventually(s.t, s.ctx, "weir's pods all on "+want, func() (string, error) {
		pods := &corev1.PodList{}
		if err := s.cl.List(s.ctx, pods, client.InNamespace("weir-system"), client.MatchingLabels{"app.kubernetes.io/name": "weir"}); err != nil {
			return "", err
		}
		ready := 0
		for _, p := range pods.Items {
			if img := p.Spec.Containers[0].Image; img != want {
				return "", fmt.Errorf("pod %s runs %s", p.Name, img)
			}
			if podReady(&p) {
				ready++
			}
		}
		if ready != 2 || len(pods.Items) != 2 {
			return "", fmt.Errorf("%d of %d pods Ready", ready, len(pods.Items))
		}
		lease := &coordinationv1.Lease{}
		if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "weir-system", Name: "weir-controller.weir.dev"}, lease); err != nil {
			return "", err
		}
		for _, p := range pods.Items {
			if p.Name == leaseHolder(lease) {
				return "", nil
			}
		}
		return "", fmt.Errorf("the Lease is held by %q", leaseHolder(lease))
	})
}

// releaseMidRollout syncs the settings and the web workload, releases v2
// of web and promotes it past its first pause to the last.
func (s *upgradeStory) releaseMidRollout() {
	s.t.Helper()
	client, err := kubernetes.NewForConfig(s.c.Config)
	if err != nil {
		s.t.Fatal(err)
	}
	s.repo = newPodReachableRepo(s.t, s.ctx, client)
	s.repo.Write("settings/settings.yaml", configMap("v1"))
	s.repo.Write("web/svc.yaml", webService)
	s.repo.Write("web/rollout.yaml", webRollout)
	s.commitWeb("v1")
	mustKubectl(s.t, s.ctx, s.c, "create", "namespace", "shop")
	mustKubectl(s.t, s.ctx, s.c, "apply", "-k", grantOverlay(s.t, "shop"))
	mustKubectl(s.t, s.ctx, s.c, "apply", "-k", "../../config/tenancy/roles")
	mustKubectl(s.t, s.ctx, s.c, "apply", "-f", writeFile(s.t, "settings.yaml", application("settings", s.repo.url, "settings")))
	mustKubectl(s.t, s.ctx, s.c, "apply", "-f", writeFile(s.t, "web.yaml", application("web", s.repo.url, "web")))
	s.awaitRollout("idle on release v1", func(st weirv1.RolloutStatus) bool {
		return st.Phase == weirv1.RolloutIdle && st.StableHash != "" && s.webRelease() == "v1"
	})
	waitAvailable(s.t, s.ctx, client, "shop", "app=web", 4)

	s.commitWeb("v2")
	s.awaitRollout("paused at step 1 with weight 25", pausedAt(1, 25))
	s.promote()
	s.awaitRollout("paused at step 3 with weight 50", pausedAt(3, 50))
	s.awaitWebPods(4)
}

// commitWeb commits release of the web Deployment.
func (s *upgradeStory) commitWeb(release string) string {
	s.t.Helper()
	s.repo.Write("web/web.yaml", fmt.Sprintf(webDeployment, localcluster.RealNodeLabel, localcluster.RealNodeValue, helloImage, release))
	return s.repo.Commit("web " + release)
}

// webRelease is the release the stable Deployment web runs.
func (s *upgradeStory) webRelease() string {
	web := &appsv1.Deployment{}
	if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: "web"}, web); err != nil {
		return ""
	}
	for _, e := range web.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "RELEASE" {
			return e.Value
		}
	}
	return ""
}

// rollout reads Rollout web.
func (s *upgradeStory) rollout() *weirv1.Rollout {
	s.t.Helper()
	ro := &weirv1.Rollout{}
	if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: "web"}, ro); err != nil {
		s.t.Fatal(err)
	}
	return ro
}

// pausedAt says whether a Rollout's status is paused at step with weight.
func pausedAt(step, weight int32) func(weirv1.RolloutStatus) bool {
	return func(st weirv1.RolloutStatus) bool {
		return st.Phase == weirv1.RolloutPaused && st.CurrentStep == step && st.CanaryWeight == weight
	}
}

// awaitRollout waits until the status of Rollout web satisfies ok.
func (s *upgradeStory) awaitRollout(what string, ok func(weirv1.RolloutStatus) bool) {
	s.t.Helper()
	eventually(s.t, s.ctx, "Rollout web "+what, func() (string, error) {
		ro := &weirv1.Rollout{}
		if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: "web"}, ro); err != nil {
			return "", err
		}
		if st := ro.Status; !ok(st) {
			return "", fmt.Errorf("phase %s, step %d, weight %d: %s", st.Phase, st.CurrentStep, st.CanaryWeight, st.Message)
		}
		return "", nil
	})
}

// promote asks for the next step, as `weir rollout promote` does.
func (s *upgradeStory) promote() {
	s.t.Helper()
	token := time.Now().UTC().Format(time.RFC3339Nano)
	mustKubectl(s.t, s.ctx, s.c, "-n", "shop", "annotate", "--overwrite", "rollout", "web", weirv1.PromoteAnnotation+"="+token)
}

// awaitWebPods waits until n pods of web (stable and canary) run, all
// Ready, and none is being deleted.
func (s *upgradeStory) awaitWebPods(n int) {
	s.t.Helper()
	eventually(s.t, s.ctx, fmt.Sprintf("%d Ready pods of web", n), func() (string, error) {
		pods := &corev1.PodList{}
		if err := s.cl.List(s.ctx, pods, client.InNamespace("shop"), client.MatchingLabels{"app": "web"}); err != nil {
			return "", err
		}
		ready := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && podReady(&p) {
				ready++
			}
		}
		if ready != n || len(pods.Items) != n {
			return "", fmt.Errorf("%d of %d pods Ready", ready, len(pods.Items))
		}
		return "", nil
	})
}

// webPods are the pods of web: their UIDs, containers and restarts.
func (s *upgradeStory) webPods() map[string]string {
	s.t.Helper()
	pods := &corev1.PodList{}
	if err := s.cl.List(s.ctx, pods, client.InNamespace("shop"), client.MatchingLabels{"app": "web"}); err != nil {
		s.t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range pods.Items {
		var containers []string
		for _, c := range p.Status.ContainerStatuses {
			containers = append(containers, fmt.Sprintf("%s restarts %d", c.ContainerID, c.RestartCount))
		}
		got[p.Name] = fmt.Sprintf("uid %s, %s", p.UID, strings.Join(containers, ", "))
	}
	return got
}

// syncedObjects are the objects the Applications applied, and the canary
// copy weir made of web.
func syncedObjects() []client.Object {
	in := func(o client.Object, name string) client.Object {
		o.SetNamespace("shop")
		o.SetName(name)
		return o
	}
	return []client.Object{
		in(&corev1.ConfigMap{}, "settings"),
		in(&corev1.Service{}, "web"),
		in(&appsv1.Deployment{}, "web"),
		in(&appsv1.Deployment{}, "web-canary"),
		in(&weirv1.Rollout{}, "web"),
	}
}

// snapshot says, of each synced object, its UID, generation and the fields
// its managers set outside status; and, but for the Rollout, whose status
// weir keeps, its resourceVersion.
func (s *upgradeStory) snapshot() map[string]string {
	s.t.Helper()
	got := map[string]string{}
	for _, o := range syncedObjects() {
		if err := s.cl.Get(s.ctx, client.ObjectKeyFromObject(o), o); err != nil {
			s.t.Fatal(err)
		}
		var fields []metav1.ManagedFieldsEntry
		for _, f := range o.GetManagedFields() {
			if f.Subresource == "" {
				fields = append(fields, f)
			}
		}
		managed, err := json.Marshal(fields)
		if err != nil {
			s.t.Fatal(err)
		}
		version := o.GetResourceVersion()
		if _, ok := o.(*weirv1.Rollout); ok {
			version = "(status kept by weir)"
		}
		key := fmt.Sprintf("%T %s", o, o.GetName())
		got[key] = fmt.Sprintf("uid %s, resourceVersion %s, generation %d, managedFields %s", o.GetUID(), version, o.GetGeneration(), managed)
	}
	return got
}

// upgrade upgrades weir to this checkout as the README says.
func (s *upgradeStory) upgrade() {
	s.t.Helper()
	mustKubectl(s.t, s.ctx, s.c, "apply", "-k", "../../config/crd")
	mustKubectl(s.t, s.ctx, s.c, "wait", "--for=condition=Established", "--timeout=60s", "-f", "../../config/crd/bases")
	mustKubectl(s.t, s.ctx, s.c, "apply", "-k", onRealNode(s.t, "../../config/default", version.Version))
}

// crdsAreThisCheckouts checks that every CRD of config/crd is served with
// this checkout's schemas, and that weir's pods, which watch those kinds,
// never restarted.
func (s *upgradeStory) crdsAreThisCheckouts() {
	s.t.Helper()
	files, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil || len(files) == 0 {
		s.t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			s.t.Fatal(err)
		}
		want := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, want); err != nil {
			s.t.Fatalf("%s: %v", f, err)
		}
		live := &apiextensionsv1.CustomResourceDefinition{}
		if err := s.cl.Get(s.ctx, client.ObjectKey{Name: want.Name}, live); err != nil {
			s.t.Errorf("CRD %s after the upgrade: %v", want.Name, err)
			continue
		}
		for i, v := range want.Spec.Versions {
			if i >= len(live.Spec.Versions) || !reflect.DeepEqual(live.Spec.Versions[i].Schema, v.Schema) {
				s.t.Errorf("CRD %s version %s is not served with the schema of %s", want.Name, v.Name, f)
			}
		}
	}
	pods := &corev1.PodList{}
	if err := s.cl.List(s.ctx, pods, client.InNamespace("weir-system")); err != nil {
		s.t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, c := range p.Status.ContainerStatuses {
			if c.RestartCount != 0 {
				s.t.Errorf("weir's pod %s restarted %d times", p.Name, c.RestartCount)
			}
		}
	}
}

// syncedByTheNewWeir asks both Applications for a sync, as `weir sync`
// does, and waits until the new weir has made it.
func (s *upgradeStory) syncedByTheNewWeir() {
	s.t.Helper()
	token := time.Now().UTC().Format(time.RFC3339Nano)
	for _, name := range []string{"settings", "web"} {
		mustKubectl(s.t, s.ctx, s.c, "-n", "shop", "annotate", "--overwrite", "application", name, weirv1.RequestedSyncAnnotation+"="+token)
	}
	for _, name := range []string{"settings", "web"} {
		eventually(s.t, s.ctx, "Application "+name+" synced at the request", func() (string, error) {
			app := &weirv1.Application{}
			if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: name}, app); err != nil {
				return "", err
			}
			if app.Status.LastHandledSyncRequest != token {
				return "", fmt.Errorf("last handled request %q", app.Status.LastHandledSyncRequest)
			}
			return "", nil
		})
	}
}

// uninstall removes weir as the README says, checking that the Rollout
// held by weir's finalizer is let go by the running weir with the
// workload back on stable, and that nothing is left Terminating.
func (s *upgradeStory) uninstall() {
	s.t.Helper()
	if !controllerutil.ContainsFinalizer(s.rollout(), weirv1.RolloutFinalizer) {
		s.t.Fatalf("Rollout web lacks the finalizer %s", weirv1.RolloutFinalizer)
	}
	mustKubectl(s.t, s.ctx, s.c, "delete", "applications", "--all", "--all-namespaces")
	mustKubectl(s.t, s.ctx, s.c, "delete", "rollouts", "--all", "--all-namespaces", "--timeout=2m")
	canary := &appsv1.Deployment{}
	if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: "web-canary"}, canary); !apierrors.IsNotFound(err) {
		s.t.Errorf("the canary copy outlived its Rollout: %v", err)
	}
	web := &appsv1.Deployment{}
	if err := s.cl.Get(s.ctx, client.ObjectKey{Namespace: "shop", Name: "web"}, web); err != nil || *web.Spec.Replicas != 4 || s.webRelease() != "v2" {
		s.t.Errorf("after its Rollout went, web is not back on stable v2 with 4 replicas: %v", err)
	}
	mustKubectl(s.t, s.ctx, s.c, "delete", "-k", onRealNode(s.t, "../../config/default", version.Version), "--timeout=2m")
	mustKubectl(s.t, s.ctx, s.c, "delete", "namespace", "shop", "--timeout=2m")
	crds := &apiextensionsv1.CustomResourceDefinitionList{}
	if err := s.cl.List(s.ctx, crds); err != nil {
		s.t.Fatal(err)
	}
	for _, crd := range crds.Items {
		if crd.Spec.Group == weirv1.GroupVersion.Group {
			s.t.Errorf("CRD %s is left after the uninstall", crd.Name)
		}
	}
	namespaces := &corev1.NamespaceList{}
	if err := s.cl.List(s.ctx, namespaces); err != nil {
		s.t.Fatal(err)
	}
	for _, ns := range namespaces.Items {
		if ns.Name == "weir-system" || ns.Name == "shop" || ns.Status.Phase == corev1.NamespaceTerminating {
			s.t.Errorf("namespace %s is left after the uninstall (%s)", ns.Name, ns.Status.Phase)
		}
	}
}

// The web workload: a Deployment of hello pods on the real node, given the
// node's label, value, the image and the release; its Service; and its
// Rollout.
const (
	webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector: {%[1]s: %[2]s}
      tolerations: [{key: %[1]s, value: %[2]s, effect: NoSchedule}]
      containers:
      - name: web
        image: %[3]s
        imagePullPolicy: Never
        env: [{name: RELEASE, value: %[4]s}]
        readinessProbe: {httpGet: {port: 8080}}
`
	webService = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`
	webRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
spec:
  targetRef: {name: web}
  strategy:
    canary:
      service: web
      steps:
` + canarySteps
)
