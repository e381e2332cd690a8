package multicluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestUnreachableClusterSlowsNoOther: when a remote cluster's API server
// stops, and when another never answers, their Applications are
// ClusterUnreachable with their inventories kept (nothing is pruned),
// while an Application of a third cluster goes on syncing each commit.
func TestUnreachableClusterSlowsNoOther(t *testing.T) {
	files := map[string]string{"settings.yaml": fixture.ConfigMap("settings", "color", "blue")}
	doomed := testenv.StartCluster(t)
	stopped := givenRemote(t, doomed, files)
	stopped.whenApplication("remote", nil)
	stopped.thenApplied(stopped.repo.Git("rev-parse", "HEAD"), time.Minute)

	hung := givenRemote(t, testenv.Remote(t, 1), files)
	silent := testenv.NewSilentServer(t)
	registerKubeconfig(t, hung.ns, "hung", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: hung
  cluster: {server: "https://%s", insecure-skip-tls-verify: true}
users:
- name: hung
  user: {token: never-used}
contexts:
- name: hung
  context: {cluster: hung, user: hung}
current-context: hung
`, silent.Addr()))
	hung.whenApplication("hung", nil)

	other := givenRemote(t, testenv.Remote(t, 1), files)
	other.whenApplication("remote", nil)
	other.thenApplied(other.repo.Git("rev-parse", "HEAD"), time.Minute)

	if err := doomed.StopComponent("kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	// The stopped cluster's Application goes on failing while the other
	// cluster's takes commits.
	for _, color := range []string{"green", "yellow"} {
		sha := other.commit("paint "+color, map[string]string{"settings.yaml": fixture.ConfigMap("settings", "color", color)})
		other.thenApplied(sha, 30*time.Second)
		other.remoteConfigMap("settings", "color", color)
	}
	stopped.commit("drop settings", map[string]string{"settings.yaml": "", "other.yaml": fixture.ConfigMap("other", "k", "v")})
	for _, s := range []*remoteStory{stopped, hung} {
		app := s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "ClusterUnreachable")
		if s == stopped && !slices.ContainsFunc(app.Status.Inventory, func(r weirv1.ObjectRef) bool { return r.Name == "settings" }) {
			t.Errorf("the inventory lost settings while its cluster was unreachable: %v", app.Status.Inventory)
		}
		if msg := conditionMessage(app, weirv1.ReadyCondition); msg == "" {
			t.Error("ClusterUnreachable without a message")
		}
	}
}

// registerKubeconfig creates the cluster Secret name in ns holding
// kubeconfig as it is.
func registerKubeconfig(t *testing.T, ns, name, kubeconfig string) {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data: map[string][]byte{weirv1.ClusterKubeconfigKey: []byte(kubeconfig)}}
	if err := testenv.Client(t).Create(t.Context(), secret); err != nil {
		t.Fatalf("register cluster %s: %v", name, err)
	}
}
