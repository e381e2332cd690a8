package multicluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestApplicationSyncsToARemoteCluster: an Application whose destination
// is a remote cluster applies there, not on weir's cluster; a hand edit
// there is healed, and an object removed from Git is pruned there.
func TestApplicationSyncsToARemoteCluster(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 0), map[string]string{
		"settings.yaml": fixture.ConfigMap("settings", "color", "blue"),
		"extra.yaml":    fixture.ConfigMap("extra", "size", "large"),
	})
	sha := s.repo.Git("rev-parse", "HEAD")
	s.whenApplication("remote", func(spec *weirv1.ApplicationSpec) { spec.Sync.SelfHeal = true })
	s.thenApplied(sha, time.Minute)
	s.remoteConfigMap("settings", "color", "blue")
	s.checkNoCredentialShown(testenv.Remote(t, 0))
	if out := s.weir("diff", "shop"); !strings.Contains(out, "The cluster matches") {
		t.Errorf("weir diff shop printed %q, want the remote cluster to match", out)
	}
	if err := s.local.Get(t.Context(), client.ObjectKey{Namespace: s.ns, Name: "settings"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Fatalf("ConfigMap settings on weir's cluster: %v, want none", err)
	}

	// Someone edits the ConfigMap on the remote cluster by hand.
	var cm corev1.ConfigMap
	if err := s.remote.Get(t.Context(), client.ObjectKey{Namespace: s.ns, Name: "settings"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["color"] = "red"
	if err := s.remote.Update(t.Context(), &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	s.remoteConfigMap("settings", "color", "blue")

	sha = s.commit("drop extra", map[string]string{"extra.yaml": ""})
	s.thenApplied(sha, time.Minute)
	testenv.Eventually(t, 30*time.Second, "ConfigMap extra pruned from the remote cluster", func(ctx context.Context) error {
		err := s.remote.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "extra"}, &corev1.ConfigMap{})
		if err == nil {
			return errors.New("still there")
		}
		return client.IgnoreNotFound(err)
	})
}

// TestKubeconfigWithExecIsRefused: a kubeconfig Secret whose user runs a
// command is refused, naming the Secret and the field, and nothing runs.
func TestKubeconfigWithExecIsRefused(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 0), map[string]string{"settings.yaml": fixture.ConfigMap("settings", "color", "blue")})
	ran := filepath.Join(t.TempDir(), "ran")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: remote
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/sh
      args: ["-c", "touch %s; echo '{}'"]
contexts:
- name: remote
  context: {cluster: remote, user: remote}
current-context: remote
`, testenv.Remote(t, 0).Config.Host, ran)
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = s.ns, "exec"
	secret.Data = map[string][]byte{weirv1.ClusterKubeconfigKey: []byte(kubeconfig)}
	if err := s.local.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	s.whenApplication("exec", nil)
	app := s.thenCondition(weirv1.StalledCondition, "True", "ClusterRefused")
	want := `kubeconfig in Secret ` + s.ns + `/exec: users["remote"].exec is refused`
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, want) {
		t.Errorf("Ready says %q, want it to hold %q", msg, want)
	}
	if _, err := os.Stat(ran); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the exec plugin ran (%v)", err)
	}
}
