// Package realnode tests the local cluster's real node: pods of a locally
// built image run on it, serve through a Service to the host and to other
// pods by DNS name, reach the API server, answer `kubectl logs` and
// `kubectl exec`, and stopping the cluster leaves nothing on the machine.
package realnode

import (
	"context"
	"errors"
	"io"
	"net/http"
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
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

const helloImage = "weir.local/hello:1"

func TestPodsOnTheRealNodeServeAndLeaveNothingBehind(t *testing.T) {
	// In the turn, once no other node (of a test that takes no turn, or
	// of a developer's cluster) has them changed.
	testenv.RealNodeTurn(t)
	if err := localcluster.WaitForNoRealNode(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := hostSettings(t)
	c := startRealNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	loadHelloImage(t, ctx, c)
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := "hello"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := createHello(t, ctx, client, ns, 2)
	pods := waitAvailable(t, ctx, client, ns, "app=hello", 2)

	body := eventually(t, ctx, "GET the Service from the host", func() (string, error) {
		return httpGet(ctx, "http://"+svc.Spec.ClusterIP+"/")
	})
	if !strings.HasPrefix(body, "hello from hello-") {
		t.Errorf("the Service's address answers the host %q, want a hello pod's greeting", body)
	}
	dnsName := "http://hello." + ns + ".svc.cluster.local/"
	body = eventually(t, ctx, "GET the Service by name from a pod", func() (string, error) {
		return kubectl(ctx, c, "-n", ns, "exec", pods[0], "--", "/entrypoint", "get", dnsName)
	})
	if !strings.HasPrefix(body, "hello from hello-") {
		t.Errorf("%s answers a pod %q, want a hello pod's greeting", dnsName, body)
	}
	version, err := kubectl(ctx, c, "-n", ns, "exec", pods[1], "--", "/entrypoint", "get", "https://kubernetes.default.svc/version")
	if err != nil || !strings.Contains(version, `"gitVersion"`) {
		t.Errorf("a pod cannot reach the API server through the kubernetes Service: %v %s", err, version)
	}
	// Refused, but to the pod's service account: its token authenticates.
	refused, _ := kubectl(ctx, c, "-n", ns, "exec", pods[1], "--", "/entrypoint", "get", "https://kubernetes.default.svc/api/v1/namespaces/"+ns+"/secrets")
	if want := "system:serviceaccount:" + ns + ":default"; !strings.Contains(refused, want) {
		t.Errorf("the API server answers a pod's service-account request with %q, want a refusal naming %s", refused, want)
	}
	logs, err := kubectl(ctx, c, "-n", ns, "logs", pods[0])
	if err != nil || !strings.Contains(logs, "serving on :8080") {
		t.Errorf("kubectl logs %s = %q, %v; want the server's first line", pods[0], logs, err)
	}

	if len(leftovers(t)) == 0 {
		t.Fatal("the leftover check sees nothing of a running node")
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop the cluster: %v", err)
	}
	for _, leftover := range leftovers(t) {
		t.Errorf("left behind after Stop: %s", leftover)
	}
	after := hostSettings(t)
	for key, was := range before {
		if after[key] != was {
			t.Errorf("%s is %q after Stop, was %q", key, after[key], was)
		}
	}
}

// startRealNode starts a cluster with a real node, stopped when the test
// ends.
func startRealNode(t testing.TB) realCluster {
	t.Helper()
	c, bins := testenv.RealNode(t)
	return realCluster{c, bins}
}

// loadHelloImage builds testdata/hello as a static binary, makes it an
// image and loads it into the node.
func loadHelloImage(t testing.TB, ctx context.Context, c realCluster) {
	t.Helper()
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "hello"), "./testdata/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/hello: %v\n%s", err, out)
	}
	tarball := filepath.Join(dir, "hello.tar")
	if err := localcluster.WriteBinaryImage(filepath.Join(dir, "hello"), helloImage, tarball); err != nil {
		t.Fatal(err)
	}
	if err := c.LoadImage(ctx, tarball); err != nil {
		t.Fatal(err)
	}
}

// createHello creates two hello pods on the real node, by node selector
// and toleration, and a ClusterIP Service in front of them.
func createHello(t testing.TB, ctx context.Context, client kubernetes.Interface, ns string, replicas int32) *corev1.Service {
	t.Helper()
	labels := map[string]string{"app": "hello"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{localcluster.RealNodeLabel: localcluster.RealNodeValue},
					Tolerations:  []corev1.Toleration{{Key: localcluster.RealNodeLabel, Value: localcluster.RealNodeValue, Effect: corev1.TaintEffectNoSchedule}},
					Containers: []corev1.Container{{
						Name: "hello", Image: helloImage, ImagePullPolicy: corev1.PullNever,
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}},
					}},
				},
			},
		},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	svc, err := client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// waitAvailable waits for n pods of selector to be Ready on the real node and
// returns their names.
func waitAvailable(t testing.TB, ctx context.Context, client kubernetes.Interface, ns, selector string, n int) []string {
	t.Helper()
	var names []string
	eventually(t, ctx, "Ready pods "+selector+" on the real node", func() (string, error) {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return "", err
		}
		names = nil
		for _, p := range pods.Items {
			if p.Spec.NodeName == localcluster.RealNodeName && podReady(&p) {
				names = append(names, p.Name)
			}
		}
		if len(names) < n {
			return "", errNotYet
		}
		return "", nil
	})
	return names
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var errNotYet = errors.New("not yet")

// eventually retries f until it succeeds or ctx ends, and returns its
// output.
func eventually(t testing.TB, ctx context.Context, what string, f func() (string, error)) string {
	t.Helper()
	for {
		out, err := f()
		if err == nil {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v %s", what, err, out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// httpGet GETs url on a connection of its own: a connection kept alive
// would reach the same pod behind a Service every time.
func httpGet(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Close = true
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// realCluster is a running cluster with a real node, and its binaries.
type realCluster struct {
	*localcluster.Cluster
	bins localcluster.Binaries
}

func kubectl(ctx context.Context, c realCluster, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, c.bins.Path("kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

// TestTheNextStartCleansUpANodeThatDied kills every component of a real
// node that runs a pod, as a crash would, leaving its containers, bridge,
// rules and cgroups behind; the next start cleans them up, and its stop
// leaves nothing.
func TestTheNextStartCleansUpANodeThatDied(t *testing.T) {
	crashed := startRealNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	loadHelloImage(t, ctx, crashed)
	client, err := kubernetes.NewForConfig(crashed.Config)
	if err != nil {
		t.Fatal(err)
	}
	createHello(t, ctx, client, metav1.NamespaceDefault, 1)
	waitAvailable(t, ctx, client, metav1.NamespaceDefault, "app=hello", 1)
	for _, p := range crashed.Processes {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
	if len(liveNodeProcesses()) == 0 {
		t.Fatal("no container outlived its node's components; nothing is left to clean up")
	}

	next := startRealNode(t)
	if err := next.Stop(); err != nil {
		t.Fatalf("stop the cluster: %v", err)
	}
	for _, leftover := range leftovers(t) {
		t.Errorf("left behind after Stop: %s", leftover)
	}
}
