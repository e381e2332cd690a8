package multicluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestGetClusters: `weir get clusters` lists the clusters the namespace's
// Applications target, and those whose Secrets -l selects, with the
// version of those that answer, why the others are unreachable or
// refused, and how many Applications target each.
func TestGetClusters(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 0), map[string]string{"settings.yaml": fixture.ConfigMap("settings", "color", "blue")})
	s.whenApplication("remote", nil)
	registerKubeconfig(t, s.ns, "hung", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: hung, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: hung, user: {token: never-used}}]
contexts: [{name: hung, context: {cluster: hung, user: hung}}]
current-context: hung
`, testenv.NewSilentServer(t).Addr()))
	registerKubeconfig(t, s.ns, "refused", `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	for _, name := range []string{"web", "api"} {
		createApplication(t, s, name, "hung")
	}
	createApplication(t, s, "old", "refused")

	registerCluster(t, s.ns, "spare", testenv.Remote(t, 1), map[string]string{"env": "spare"})
	out := s.weir("get", "clusters", "-o", "json", "--timeout", "2s", "-l", "env=spare")
	var got []cluster.Status
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(got) != 4 {
		t.Fatalf("listed %d clusters, want 4: %s", len(got), out)
	}
	hung, refused, up, spare := got[0], got[1], got[2], got[3]
	if spare.Secret != "spare" || !spare.Reachable || spare.Applications != 0 {
		t.Errorf("spare, selected by its label: %+v", spare)
	}
	if up.Secret != "remote" || !up.Reachable || !strings.HasPrefix(up.Version, "v1.") || up.Applications != 1 || up.Server != testenv.Remote(t, 0).Config.Host {
		t.Errorf("remote: %+v", up)
	}
	if hung.Secret != "hung" || hung.Reachable || hung.Applications != 2 || !strings.Contains(hung.Message, "unreachable") {
		t.Errorf("hung: %+v", hung)
	}
	if refused.Secret != "refused" || refused.Reachable || !strings.Contains(refused.Message, `users["u"].tokenFile is refused`) {
		t.Errorf("refused: %+v", refused)
	}
	if strings.Contains(out, "never-used") {
		t.Error("the listing shows a token")
	}
}

// createApplication creates an Application of s's repository that syncs
// to the cluster of Secret cluster.
func createApplication(t *testing.T, s *remoteStory, name, cluster string) {
	t.Helper()
	app := &weirv1.Application{}
	app.Namespace, app.Name = s.ns, name
	app.Spec.Source.URL = s.repo.URL()
	app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: cluster}}
	app.Spec.Sync.Interval = s.app.Spec.Sync.Interval
	if err := s.local.Create(t.Context(), app); err != nil {
		t.Fatalf("create Application %s: %v", name, err)
	}
}
