package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cli"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

func TestSecretValuesNeverLeak(t *testing.T) {
	const inGit, inCluster = "git-secret-d41d8cd9", "live-secret-8f00b204"
	s := given(t, map[string]string{
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + inGit + "\n",
	})
	s.whenApplication(nil)
	s.thenApplied(s.repo.Head())

	// Someone changes the password by hand; weir diff shows that it
	// differs, never what it is.
	s.editSecret("db", "password", inCluster)
	out := s.weir("diff", "shop")
	if !strings.Contains(out, "password") {
		t.Errorf("weir diff does not show the changed key:\n%s", out)
	}

	s.checkNoValueShown(map[string]string{"weir diff": out}, inGit, inCluster)
}

func TestSyncAndHistoryFromTheCommandLine(t *testing.T) {
	s := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "hi")})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Sync.Interval = nil })
	s.thenApplied(s.repo.Head())

	sha := s.commit("say hello louder", map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "HI")})
	out := s.weir("sync", "shop")
	if !strings.Contains(out, "Succeeded") || !strings.Contains(out, sha) {
		t.Errorf("weir sync printed %q, want success at %s", out, sha)
	}
	var cm corev1.ConfigMap
	s.get(&cm, "hello")
	if cm.Data["greeting"] != "HI" {
		t.Errorf("greeting = %q right after weir sync, want HI", cm.Data["greeting"])
	}
	history := s.weir("history", "shop")
	for _, want := range []string{"say hello louder", "manual", "Ada Author", "initial", "Succeeded"} {
		if !strings.Contains(history, want) {
			t.Errorf("weir history lacks %q:\n%s", want, history)
		}
	}
	apps := s.weir("get", "apps", "-o", "json")
	if !strings.Contains(apps, `"name": "shop"`) {
		t.Errorf("weir get apps -o json lacks the Application:\n%s", apps)
	}
}

// weir runs the command line against the test cluster in the story's
// namespace and returns its output, failing the test on a non-zero exit.
func (s *story) weir(args ...string) string {
	s.t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--kubeconfig", testenv.Cluster(s.t).Kubeconfig, "--namespace", s.ns)
	if code := cli.Execute(context.Background(), args, &out, &errOut); code != 0 {
		s.t.Fatalf("weir %s exited %d: %s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String()
}
