package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/version"
)

// restingApplications is how many Applications weir holds when its memory
// at rest is read.
const restingApplications = 100

// BenchmarkInstall installs weir on the real node as a user does, with its
// image already loaded: ns/op is the time from `kubectl apply -k
// config/default` to the first Application Ready (its namespace, grant and
// Application created as soon as the CRD is served, a ConfigMap synced from
// a Git server the pods reach). Then 99 more Applications are created, and
// once all are Ready and a poll interval has passed, controller-RSS-MiB is
// the resident memory of the leader's weir process, read from /proc, the
// process found in its pod's cgroup.
func BenchmarkInstall(b *testing.B) {
	c := startRealNode(b)
	loadWeirImage(b, c, thisCheckout(b))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clientset, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	repo := newPodReachableRepo(b, ctx, clientset)
	for i := range restingApplications {
		repo.Write(fmt.Sprintf("apps/%03d/settings.yaml", i), strings.Replace(configMap("v1"), "name: settings", fmt.Sprintf("name: settings-%03d", i), 1))
	}
	repo.Commit("100 settings")
	cl := weirClient(b, c)
	install := onRealNode(b, "../../config/default", version.Version)
	grant := grantOverlay(b, "shop")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustKubectl(b, ctx, c, "apply", "-k", install)
		mustKubectl(b, ctx, c, "create", "namespace", "shop")
		mustKubectl(b, ctx, c, "apply", "-k", grant)
		createApplications(b, ctx, c, repo.url, 0, 1)
		awaitReady(b, ctx, cl, 1)
		b.StopTimer()
		if i == b.N-1 {
			break
		}
		mustKubectl(b, ctx, c, "delete", "namespace", "shop")
		mustKubectl(b, ctx, c, "delete", "-k", install)
		b.StartTimer()
	}
	createApplications(b, ctx, c, repo.url, 1, restingApplications)
	awaitReady(b, ctx, cl, restingApplications)
	time.Sleep(time.Minute) // the default interval: every Application polled once more
	leader := awaitLeader(b, ctx, clientset, "")
	b.ReportMetric(rssMiB(weirProcess(b, ctx, cl, leader)), "controller-RSS-MiB")
}

// createApplications creates the Applications numbered from to to-1 in
// namespace shop, each syncing its own directory of the repository at url
// at the default interval.
func createApplications(b *testing.B, ctx context.Context, c realCluster, url string, from, to int) {
	var manifests []string
	for i := from; i < to; i++ {
		manifests = append(manifests, fmt.Sprintf(`apiVersion: weir.dev/v1alpha1
kind: Application
metadata:
  name: settings-%03[1]d
  namespace: shop
spec:
  source:
    url: %[2]s
    path: apps/%03[1]d
`, i, url))
	}
	file := writeFile(b, "apps.yaml", strings.Join(manifests, "---\n"))
	eventually(b, ctx, "Applications created", func() (string, error) {
		return kubectl(ctx, c, "apply", "-f", file)
	})
}

// awaitReady waits until n Applications of namespace shop are Ready.
func awaitReady(b *testing.B, ctx context.Context, cl client.Client, n int) {
	eventually(b, ctx, fmt.Sprintf("%d Applications Ready", n), func() (string, error) {
		apps := &weirv1.ApplicationList{}
		if err := cl.List(ctx, apps, client.InNamespace("shop")); err != nil {
			return "", err
		}
		ready := 0
		for _, app := range apps.Items {
			if apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition) {
				ready++
			}
		}
		if ready < n {
			return "", fmt.Errorf("%d of %d Ready", ready, n)
		}
		return "", nil
	})
}

// weirProcess is the pid of the weir process of pod in weir-system, found
// among the processes of the pod's cgroups.
func weirProcess(b *testing.B, ctx context.Context, cl client.Client, pod string) int {
	p := &corev1.Pod{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: "weir-system", Name: pod}, p); err != nil {
		b.Fatal(err)
	}
	for _, pid := range podPIDs(string(p.UID)) {
		comm, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == "weir" {
			return pid
		}
	}
	b.Fatalf("no weir process in the cgroups of pod %s (%s)", pod, p.UID)
	return 0
}
