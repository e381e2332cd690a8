package realnode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"weir.dev/weir/internal/image"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/internal/version"
)

// TestWeirInstalledRunsOnTheRealNode is weir as a user installs it: its
// image built from this checkout and loaded into the node, `kubectl apply
// -k config/default` (with the node selector and toleration of the real
// node), two pods that elect a leader, serve metrics and webhooks through
// their Services, and sync an Application from a Git server the pods
// reach; deleting the leader's pod hands over, and syncs go on.
func TestWeirInstalledRunsOnTheRealNode(t *testing.T) {
	c := startRealNode(t)
	loadWeirImage(t, c, thisCheckout(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if t.Failed() {
			reportPods(t, c)
		}
	})
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	mustKubectl(t, ctx, c, "apply", "-k", onRealNode(t, "../../config/default", version.Version))
	mustKubectl(t, ctx, c, "-n", "weir-system", "create", "secret", "generic", "weir-webhook", "--from-literal=token=hook-token")
	pods := waitAvailable(t, ctx, client, "weir-system", "app.kubernetes.io/name=weir", 2)
	leader := awaitLeader(t, ctx, client, "")

	// The Service balances over both pods, and only the leader runs the
	// reconcilers whose metrics are asked for: ask until the leader answers.
	metrics := serviceURL(t, ctx, client, "weir-controller-metrics", "/metrics")
	eventually(t, ctx, "GET the leader's controller metrics through their Service", func() (string, error) {
		body, err := httpGet(ctx, metrics)
		if err == nil && !strings.Contains(body, "controller_runtime_reconcile_total") {
			err = errors.New("answered without controller_runtime_reconcile_total")
		}
		return "", err
	})
	hook := serviceURL(t, ctx, client, "weir-webhook", "/hooks/github")
	if status := eventually(t, ctx, "POST an unsigned push to the webhook Service", func() (string, error) { return httpPostStatus(ctx, hook) }); status != "401" && status != "403" && status != "400" {
		t.Errorf("the webhook Service answers an unsigned push with %s, want it refused", status)
	}

	repo := newPodReachableRepo(t, ctx, client)
	repo.Write("settings.yaml", configMap("v1"))
	first := repo.Commit("settings v1")
	mustKubectl(t, ctx, c, "create", "namespace", "shop")
	mustKubectl(t, ctx, c, "apply", "-k", grantOverlay(t, "shop"))
	mustKubectl(t, ctx, c, "apply", "-f", writeFile(t, "app.yaml", application("shop", repo.url, "")))
	awaitSetting(t, ctx, c, "v1", first)

	mustKubectl(t, ctx, c, "-n", "weir-system", "delete", "pod", leader, "--wait=false")
	next := awaitLeader(t, ctx, client, leader)
	if !strings.HasPrefix(next, "weir-controller-") || next == leader {
		t.Errorf("after %s was deleted the leader is %q", leader, next)
	}
	repo.Write("settings.yaml", configMap("v2"))
	second := repo.Commit("settings v2")
	awaitSetting(t, ctx, c, "v2", second)
	t.Logf("pods %v; leader %s, then %s", pods, leader, next)
}

// weirSource is a tree of weir's source to build an image of, and the
// tag to give it.
type weirSource struct {
	dir    string
	source image.Source
	tag    string
}

// thisCheckout is this checkout, tagged with its version.
func thisCheckout(t testing.TB) weirSource {
	t.Helper()
	src, err := image.SourceOf(t.Context(), "../..", "https://github.com/weir-dev/weir")
	if err != nil {
		t.Fatal(err)
	}
	return weirSource{dir: "../..", source: src, tag: version.Version}
}

// loadWeirImage builds weir's image of src for this machine's platform,
// as `make image` builds it for two, and loads it into the node. It
// returns how long the build took.
func loadWeirImage(t testing.TB, c realCluster, src weirSource) time.Duration {
	t.Helper()
	ctx := t.Context()
	start := time.Now()
	res, err := image.Build(ctx, image.Options{
		SourceDir: src.dir, Package: "./cmd/weir",
		Platforms:  []ocispec.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
		Repository: weirRepository, Tag: src.tag, Source: src.source,
		OutDir: t.TempDir(), Name: "weir-image",
	})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if err := c.LoadImage(ctx, res.Archive); err != nil {
		t.Fatal(err)
	}
	return took
}

// weirRepository is where config/default pulls weir's image from.
const weirRepository = "ghcr.io/weir-dev/weir"

// onRealNode is an overlay of base, a config/default, that runs weir's
// image tagged tag and puts its pods on the real node, by its label and
// taint, and no other change.
func onRealNode(t testing.TB, base, tag string) string {
	t.Helper()
	patch := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: weir-controller
  namespace: weir-system
spec:
  template:
    spec:
      nodeSelector:
        %[1]s: %[2]s
      tolerations:
      - key: %[1]s
        value: %[2]s
        effect: NoSchedule
`, localcluster.RealNodeLabel, localcluster.RealNodeValue)
	more := fmt.Sprintf("patches:\n- path: patch.yaml\nimages:\n- name: %s\n  newTag: %s\n", weirRepository, tag)
	return overlay(t, base, more, map[string]string{"patch.yaml": patch})
}

// grantOverlay is config/grant/namespace for namespace ns.
func grantOverlay(t testing.TB, ns string) string {
	t.Helper()
	return overlay(t, "../../config/grant/namespace", "namespace: "+ns+"\n", nil)
}

// overlay writes a kustomization of base with more, and files beside it.
func overlay(t testing.TB, base, more string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	abs, err := filepath.Abs(base)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, abs) // kustomize takes no absolute paths
	if err != nil {
		t.Fatal(err)
	}
	if files == nil {
		files = map[string]string{}
	}
	files["kustomization.yaml"] = "resources:\n- " + rel + "\n" + more
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// awaitLeader waits until a pod other than not holds weir's Lease, and
// returns its name.
func awaitLeader(t testing.TB, ctx context.Context, client kubernetes.Interface, not string) string {
	t.Helper()
	return eventually(t, ctx, "a leader other than "+not, func() (string, error) {
		lease, err := client.CoordinationV1().Leases("weir-system").Get(ctx, "weir-controller.weir.dev", metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		holder := leaseHolder(lease)
		if holder == "" || holder == not {
			return "", fmt.Errorf("the Lease is held by %q", holder)
		}
		return holder, nil
	})
}

// leaseHolder is the pod that holds the Lease: controller-runtime names a
// holder by its host name and a suffix.
func leaseHolder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	pod, _, _ := strings.Cut(*l.Spec.HolderIdentity, "_")
	return pod
}

// serviceURL is the http:// URL of path on the Service's first port.
func serviceURL(t testing.TB, ctx context.Context, client kubernetes.Interface, name, path string) string {
	t.Helper()
	svc, err := client.CoreV1().Services("weir-system").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://%s:%d%s", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port, path)
}

func mustKubectl(t testing.TB, ctx context.Context, c realCluster, args ...string) string {
	t.Helper()
	out, err := kubectl(ctx, c, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// podRepo is a Git repository served on the node's address, which pods
// reach.
type podRepo struct {
	*testenv.GitRepo
	url string
}

func newPodReachableRepo(t testing.TB, ctx context.Context, client kubernetes.Interface) podRepo {
	t.Helper()
	node, err := client.CoreV1().Nodes().Get(ctx, localcluster.RealNodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ip string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	repo := testenv.NewGitRepo(t)
	srv := testenv.NewGitHTTPServerOn(t, ip, filepath.Dir(repo.Dir))
	return podRepo{repo, srv.URL(filepath.Base(repo.Dir))}
}

func configMap(value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  value: " + value + "\n"
}

// application is an Application of namespace shop that syncs path of the
// repository at url every two seconds.
func application(name, url, path string) string {
	return fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: Application
metadata:
  name: %s
  namespace: shop
spec:
  source:
    url: %s
    path: %q
  sync:
    interval: 2s
`, name, url, path)
}

// awaitSetting waits until the ConfigMap holds value and the Application
// has applied commit.
func awaitSetting(t testing.TB, ctx context.Context, c realCluster, value, commit string) {
	t.Helper()
	eventually(t, ctx, "the ConfigMap at "+value, func() (string, error) {
		got, err := kubectl(ctx, c, "-n", "shop", "get", "configmap", "settings", "-o", "jsonpath={.data.value}")
		if err != nil || got != value {
			return "", fmt.Errorf("value %q: %v", got, err)
		}
		rev, err := kubectl(ctx, c, "-n", "shop", "get", "application", "shop", "-o", "jsonpath={.status.lastAppliedRevision}")
		if err != nil || !strings.HasSuffix(rev, commit) {
			return "", fmt.Errorf("revision %q: %v", rev, err)
		}
		return got, nil
	})
}

// httpPostStatus POSTs an empty JSON body to url and returns the status
// code.
func httpPostStatus(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode), nil
}

// reportPods logs what the pods of weir-system and shop are doing.
func reportPods(t testing.TB, c realCluster) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"get", "pods", "-A", "-o", "wide"},
		{"-n", "weir-system", "describe", "pods"},
		{"-n", "weir-system", "logs", "-l", "app.kubernetes.io/name=weir", "--tail=40", "--prefix"},
		{"-n", "shop", "get", "application", "shop", "-o", "yaml"},
	} {
		out, err := kubectl(ctx, c, args...)
		t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
