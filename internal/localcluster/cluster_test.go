package localcluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestAPIServerReportsParsableVersion(t *testing.T) {
	bins := testenv.Binaries(t)
	dc, err := discovery.NewDiscoveryClientForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	info, err := dc.ServerVersion()
	if err != nil {
		t.Fatalf("the API server does not answer: %v", err)
	}
	if info.GitVersion != bins.KubernetesVersion {
		t.Errorf("server version = %q, want %q", info.GitVersion, bins.KubernetesVersion)
	}
	if _, err := version.ParseSemantic(info.GitVersion); err != nil {
		t.Errorf("server version %q does not parse: %v", info.GitVersion, err)
	}

	out, err := exec.Command(bins.Path("kubectl"), "--kubeconfig", testenv.Cluster(t).Kubeconfig, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	var kv struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal(out, &kv); err != nil {
		t.Fatalf("kubectl version output %q: %v", out, err)
	}
	if kv.ServerVersion.GitVersion != bins.KubernetesVersion {
		t.Errorf("kubectl sees server %q, want %q", kv.ServerVersion.GitVersion, bins.KubernetesVersion)
	}
}

func TestDeploymentBecomesAvailableAndRollsOut(t *testing.T) {
	c := testenv.Client(t)
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 2*time.Minute)
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
	if err := c.Create(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, deploy, "nginx:1.27")

	before := deploy.DeepCopy()
	deploy.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
	if err := c.Patch(ctx, deploy, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, deploy, "nginx:1.28")
}

// waitRolledOut waits until every replica of deploy is available and runs
// image, and no pod of an older template is left.
func waitRolledOut(t *testing.T, c client.Client, deploy *appsv1.Deployment, image string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "deployment rolled out to "+image, func(ctx context.Context) error {
		live := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(deploy), live); err != nil {
			return err
		}
		s := live.Status
		if s.ObservedGeneration < live.Generation || s.UpdatedReplicas != 3 || s.AvailableReplicas != 3 || s.Replicas != 3 {
			return fmt.Errorf("status %+v", s)
		}
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(deploy.Namespace), client.MatchingLabels{"app": "web"}); err != nil {
			return err
		}
		running := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Spec.Containers[0].Image == image {
				running++
			}
		}
		if running != 3 || len(pods.Items) != 3 {
			return fmt.Errorf("%d of %d pods run %s", running, len(pods.Items), image)
		}
		return nil
	})
}

func TestGatewayAPICRDsInstallAndServeHTTPRoutes(t *testing.T) {
	dir := filepath.Join(testenv.ModuleDir(t, "sigs.k8s.io/gateway-api"), "config", "crd", "standard")
	testenv.InstallCRDs(t,
		filepath.Join(dir, "gateway.networking.k8s.io_gateways.yaml"),
		filepath.Join(dir, "gateway.networking.k8s.io_httproutes.yaml"),
	)
	c := testenv.Client(t, gatewayv1.Install)
	ns := testenv.Namespace(t)
	ctx := testenv.Context(t, 30*time.Second)
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{
				{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "web-stable", Port: ptr.To[gatewayv1.PortNumber](80)}, Weight: ptr.To[int32](90)}},
				{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "web-canary", Port: ptr.To[gatewayv1.PortNumber](80)}, Weight: ptr.To[int32](10)}},
			}}},
		},
	}
	if err := c.Create(ctx, route); err != nil {
		t.Fatalf("create HTTPRoute: %v", err)
	}
	got := &gatewayv1.HTTPRoute{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(route), got); err != nil {
		t.Fatal(err)
	}
	if w := *got.Spec.Rules[0].BackendRefs[1].Weight; w != 10 {
		t.Errorf("canary weight = %d, want 10", w)
	}

	// The CRD's schema is enforced: a weight above the maximum is refused.
	bad := route.DeepCopy()
	bad.ObjectMeta = metav1.ObjectMeta{Name: "bad", Namespace: ns}
	bad.Spec.Rules[0].BackendRefs[0].Weight = ptr.To[int32](2_000_000)
	if err := c.Create(ctx, bad); err == nil {
		t.Error("an HTTPRoute with weight 2000000 was accepted")
	}
}

func TestStopLeavesNoProcessOrPortBehind(t *testing.T) {
	bins := testenv.Binaries(t)
	ctx := testenv.Context(t, 2*time.Minute)
	cluster, err := localcluster.Start(ctx, localcluster.Options{Binaries: bins, Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	pids := make([]int, 0, len(cluster.Processes))
	for _, p := range cluster.Processes {
		pids = append(pids, p.PID)
	}
	apiserver, err := url.Parse(cluster.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	dir := cluster.Dir

	if err := cluster.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	l, err := net.Listen("tcp", apiserver.Host)
	if err != nil {
		t.Errorf("the API server's port %s is still taken: %v", apiserver.Port(), err)
	} else {
		_ = l.Close()
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary directory %s is left behind (stat: %v)", dir, err)
	}
}

func TestSecondBuildUsesCachedBinaries(t *testing.T) {
	bins := testenv.Binaries(t)
	opts, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, cached, err := localcluster.Locate(opts); err != nil || !cached {
		t.Fatalf("Locate after a build: cached = %v, err = %v", cached, err)
	}
	before := modTimes(t, bins)
	opts.Log = failingWriter{t}
	again, err := localcluster.Build(testenv.Context(t, 10*time.Second), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again != bins {
		t.Errorf("second build returned %+v, want %+v", again, bins)
	}
	for name, mtime := range modTimes(t, again) {
		if !mtime.Equal(before[name]) {
			t.Errorf("%s was rebuilt (modified %s, was %s)", name, mtime, before[name])
		}
	}
}

func modTimes(t *testing.T, bins localcluster.Binaries) map[string]time.Time {
	t.Helper()
	times := map[string]time.Time{}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"} {
		fi, err := os.Stat(bins.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		times[name] = fi.ModTime()
	}
	return times
}

// failingWriter fails the test if the go tool is run and writes output.
type failingWriter struct{ t *testing.T }

func (w failingWriter) Write(p []byte) (int, error) {
	w.t.Errorf("the go tool ran for a cached build: %s", p)
	return len(p), nil
}

func TestStartNamesAMissingBinary(t *testing.T) {
	bins := localcluster.Binaries{KubernetesVersion: "v1.37.2", Kubernetes: t.TempDir(), Kwok: t.TempDir()}
	_, err := localcluster.Start(context.Background(), localcluster.Options{Binaries: bins})
	if err == nil {
		t.Fatal("Start with no binaries succeeded")
	}
	if want := "control-plane binary etcd is missing"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestDetachedClusterIsFoundAndStoppedByAnotherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	started, err := localcluster.Start(testenv.Context(t, 2*time.Minute), localcluster.Options{Binaries: testenv.Binaries(t), Dir: dir, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = started.Stop() })

	attached, err := localcluster.Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !attached.Running() || attached.Kubeconfig != started.Kubeconfig {
		t.Fatalf("attached cluster: running %v, kubeconfig %q; want running, %q", attached.Running(), attached.Kubeconfig, started.Kubeconfig)
	}
	c, err := client.New(attached.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.List(testenv.Context(t, 10*time.Second), &corev1.NodeList{}); err != nil {
		t.Fatalf("the attached kubeconfig does not reach the cluster: %v", err)
	}
	if err := attached.Stop(); err != nil {
		t.Fatal(err)
	}
	// Stop returns once the components have exited; this process, which
	// started them, reaps them a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range started.Processes {
		for syscall.Kill(p.PID, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Stop", p.Name, p.PID)
		}
	}
	if _, err := localcluster.Attach(t.TempDir()); err == nil {
		t.Error("Attach found a cluster in an empty directory")
	}
}
