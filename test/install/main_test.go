// Package install tests weir as a cluster's administrator installs it: the
// manifests under config/ applied with kubectl, the controller confined to
// the permissions they grant, and replicas that hand leadership over.
package install

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/testenv"
)

// TestMain sends the logs of controllers run in this process to stderr.
func TestMain(m *testing.M) {
	// The controller renders in this binary, re-executed.
	isolate.ServeIfWorker()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, nil)))
	testenv.Main(m)
}

// configDir is the repository's config/ directory.
const configDir = "../../config"

// systemNamespace is where config/default installs weir.
const systemNamespace = "weir-system"

// kubectl runs the cluster's kubectl as its administrator and returns its
// output, failing the test on error.
func kubectl(t testing.TB, args ...string) string {
	t.Helper()
	args = append([]string{"--kubeconfig=" + testenv.Cluster(t).Kubeconfig}, args...)
	out, err := exec.Command(testenv.Binaries(t).Path("kubectl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// install applies config/default, as the README tells an administrator
// to, and waits until the Application kind is served. Applying it again
// changes nothing, so every test that needs weir installed calls it.
func install(t testing.TB) {
	t.Helper()
	kubectl(t, "apply", "-k", filepath.Join(configDir, "default"))
	kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/applications.weir.dev")
}

// grantNamespace lets weir manage namespace ns the documented way: an
// overlay of config/grant/namespace that sets the namespace.
func grantNamespace(t testing.TB, ns string) {
	t.Helper()
	applyOverlay(t, filepath.Join(configDir, "grant", "namespace"), ns)
}

// applyOverlay applies, with kubectl, an overlay of the kustomization in
// dir that sets the namespace ns.
func applyOverlay(t testing.TB, dir, ns string) {
	t.Helper()
	base, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	overlay := t.TempDir()
	base, err = filepath.Rel(overlay, base) // kustomize takes no absolute paths
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf("namespace: %s\nresources:\n- %s\n", ns, base)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "-k", overlay)
}

// newAppRepo returns a Git repository whose first commit holds the files
// of testdata/app: a ConfigMap and a Deployment.
func newAppRepo(t testing.TB) *testenv.GitRepo {
	t.Helper()
	repo := testenv.NewGitRepo(t)
	files, err := filepath.Glob("testdata/app/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		repo.Write(filepath.Base(file), string(content))
	}
	repo.Commit("shop: settings and deployment")
	return repo
}

// newApplication creates an Application named shop in ns that syncs url
// every second, with the credentials in Secret secretName when it is set.
func newApplication(t testing.TB, c client.Client, ns, url, secretName string) *weirv1.Application {
	t.Helper()
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: url},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 30 * time.Second}},
		},
	}
	if secretName != "" {
		app.Spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: secretName}
	}
	if err := c.Create(context.Background(), app); err != nil {
		t.Fatalf("create Application %s/shop: %v", ns, err)
	}
	return app
}

// awaitApplication waits until the Application's status satisfies check,
// which returns what it still misses.
func awaitApplication(t testing.TB, c client.Client, app *weirv1.Application, check func(weirv1.ApplicationStatus) error) {
	t.Helper()
	what := fmt.Sprintf("Application %s/%s", app.Namespace, app.Name)
	testenv.Eventually(t, time.Minute, what, func(ctx context.Context) error {
		live := &weirv1.Application{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(app), live); err != nil {
			return err
		}
		return check(live.Status)
	})
}

// readyAt passes once the Application is Ready with commit sha applied.
func readyAt(sha string) func(weirv1.ApplicationStatus) error {
	return func(s weirv1.ApplicationStatus) error {
		if !strings.HasSuffix(s.LastAppliedRevision, sha) || !apimeta.IsStatusConditionTrue(s.Conditions, weirv1.ReadyCondition) {
			return fmt.Errorf("not Ready at %s: revision %q, conditions %v", sha, s.LastAppliedRevision, s.Conditions)
		}
		return nil
	}
}
