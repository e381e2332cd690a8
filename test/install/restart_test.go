package install

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// restartRollout releases by replica ratio in three weighted steps, each
// followed by a short pause.
const restartRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  targetRef: {name: shop}
  strategy:
    canary:
      service: shop
      steps:
      - setWeight: 25
      - pause: {duration: 1s}
      - setWeight: 50
      - pause: {duration: 1s}
      - setWeight: 75
      - pause: {duration: 1s}
`

const restartService = "apiVersion: v1\nkind: Service\nmetadata:\n  name: shop\nspec:\n  selector: {app: shop}\n  ports:\n  - port: 80\n"

// TestRolloutSurvivesAKillAtEveryStep kills the controller (SIGKILL) each
// time the Rollout records a new step or phase and starts a new one: the
// release still completes, and the canary only ever grows until the
// promotion, so no step shifted traffic twice or back.
func TestRolloutSurvivesAKillAtEveryStep(t *testing.T) {
	install(t)
	bin := buildWeir(t)
	c := testenv.Client(t, weirv1.AddToScheme)
	repo := newAppRepo(t)
	repo.Write("rollout.yaml", restartRollout)
	repo.Write("service.yaml", restartService)
	ns := testenv.Namespace(t)
	repo.Write("deployment.yaml", shopDeployment("shop:1"))
	repo.Commit("shop: four replicas")
	app := newApplication(t, c, ns, repo.URL(), "")
	ctrl := startProcess(t, bin, "controller-1")
	awaitApplication(t, c, app, readyAt(repo.Head()))

	repo.Write("deployment.yaml", shopDeployment("shop:2"))
	repo.Commit("shop 2")
	var seen []string
	var canary []int32
	kills := 0
	testenv.Eventually(t, 3*time.Minute, "the release promoted across kills", func(ctx context.Context) error {
		ro := &weirv1.Rollout{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, ro); err != nil {
			return err
		}
		canary = appendChanged(canary, canaryReplicas(ctx, t, c, ns))
		state := fmt.Sprintf("%s@%d", ro.Status.Phase, ro.Status.CurrentStep)
		if len(seen) == 0 || seen[len(seen)-1] != state {
			seen = append(seen, state)
			if ro.Status.Phase != weirv1.RolloutIdle || ro.Status.StableHash != ro.Status.CanaryHash {
				ctrl.kill(t)
				kills++
				ctrl = startProcess(t, bin, fmt.Sprintf("controller-%d", kills+1))
			}
		}
		if ro.Status.Phase == weirv1.RolloutIdle && ro.Status.CanaryHash != "" && ro.Status.StableHash == ro.Status.CanaryHash {
			return nil
		}
		return fmt.Errorf("states %v", seen)
	})
	if kills < 6 {
		t.Errorf("only %d kills over the states %v; want one at each step", kills, seen)
	}
	for i := 1; i < len(canary); i++ {
		if canary[i] < canary[i-1] && canary[i] != -1 {
			t.Errorf("the canary shrank from %d to %d replicas during the release: %v", canary[i-1], canary[i], canary)
		}
	}
	stable := &appsv1.Deployment{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, stable); err != nil {
		t.Fatal(err)
	}
	if img := stable.Spec.Template.Spec.Containers[0].Image; img != "shop:2" {
		t.Errorf("the stable Deployment runs %s after the promotion, want shop:2", img)
	}
	t.Logf("states %v, canary replicas %v, %d kills", seen, canary, kills)
}

// canaryReplicas is the canary copy's spec.replicas, or -1 when it is gone.
func canaryReplicas(ctx context.Context, t *testing.T, c client.Client, ns string) int32 {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-canary"}, d); err != nil {
		if client.IgnoreNotFound(err) != nil {
			t.Logf("read the canary: %v", err)
		}
		return -1
	}
	return *d.Spec.Replicas
}

// appendChanged appends v unless it equals the last element.
func appendChanged(list []int32, v int32) []int32 {
	if len(list) > 0 && list[len(list)-1] == v {
		return list
	}
	return append(list, v)
}

// shopDeployment is the Deployment shop, four replicas of image.
func shopDeployment(image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 4
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: %s
`, image)
}
