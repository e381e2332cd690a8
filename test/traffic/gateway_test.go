package traffic

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

// gatewayAddress is where the Gateway listens: the real node's address,
// on the host, where the pod network is.
const gatewayAddress = "10.244.255.1"

// TestCanaryThroughTheGateway releases the demo through a real Gateway API
// data plane, Traefik, on HTTPRoute weights that weir sets: at 20, 50 and
// 80 the canary serves within 5 points of 2,000 requests through the
// Gateway, the last with a header route set, which sends every request
// with the header to the canary; the promotion leaves every request on
// the new version.
func TestCanaryThroughTheGateway(t *testing.T) {
	c, cl := realCluster(t)
	installGatewayAPI(t, c)
	s := newStory(t, cl, "gateway")
	port := startTraefik(t, c)
	for _, obj := range []string{gatewayClass, fmt.Sprintf(gatewayObject, s.ns, port)} {
		createYAML(t, s, obj)
	}
	gateway := "http://" + net.JoinHostPort(gatewayAddress, strconv.Itoa(port)) + "/"
	s.repo.Write("web.yaml", demoDeployment("v1", "0"))
	s.repo.Write("svc.yaml", demoService)
	s.repo.Write("route.yaml", demoRoute)
	s.repo.Write("rollout.yaml", gatewayRollout)
	s.repo.Commit("the demo at v1 behind the Gateway")
	s.createApplication()
	s.waitServing(gateway, "v1")

	s.repo.Write("web.yaml", demoDeployment("v2", "0"))
	s.repo.Commit("release v2")
	for _, weight := range []int32{20, 50, 80} {
		s.waitRollout(fmt.Sprintf("paused at %d%%", weight), func(ro *weirv1.Rollout) bool {
			return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CanaryWeight == weight && s.readyPods("web-canary") > 0 &&
				(weight != 80 || ro.Status.CurrentStep == 6) // at 80, after the header route
		})
		time.Sleep(2 * time.Second) // Traefik applies a route change within a second or two
		split := count(s.ctx, gateway, requestsPerWeight, 8)
		got := split.share("v2")
		t.Logf("Gateway at weight %d: v2 served %.1f%% (%s)", weight, got, split)
		if math.Abs(got-float64(weight)) > tolerance {
			t.Errorf("at weight %d the canary served %.1f%% of %d requests through the Gateway, want within %.0f points", weight, got, requestsPerWeight, tolerance)
		}
		if weight != 80 {
			s.promote()
		}
	}
	// At 80 the Rollout pauses with the header route set: the requests
	// without the header counted above kept the split.
	withHeader := newTally()
	for range 500 {
		withHeader.add(get(s.ctx, gateway, http.Header{"X-Canary": {"yes"}}))
	}
	t.Logf("with the header: %s", withHeader)
	if withHeader.versions["v2"] != 500 {
		t.Errorf("with the header: %s, want every request on the canary", withHeader)
	}
	s.promote()
	s.waitRollout("promoted", func(ro *weirv1.Rollout) bool { return ro.Status.Phase == weirv1.RolloutIdle && s.canaryGone() })
	s.waitServing(gateway, "v2")
}

const gatewayClass = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: traefik}
spec: {controllerName: traefik.io/gateway-controller}
`

// gatewayObject is the Gateway in a namespace, on a port: Traefik serves a
// listener on the entry point of the same port.
const gatewayObject = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: traefik, namespace: %s}
spec:
  gatewayClassName: traefik
  listeners:
  - {name: web, protocol: HTTP, port: %d}
`

const demoRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: traefik}]
  rules:
  - backendRefs: [{name: web-stable, port: 80}]
`

const gatewayRollout = `apiVersion: weir.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  targetRef: {name: web}
  progressDeadline: 2m
  strategy:
    canary:
      service: web
      trafficRouting:
        gatewayAPI: {httpRoute: web}
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 50
      - pause: {}
      - setWeight: 80
      - setHeaderRoute:
          matches: [{header: x-canary, value: "yes"}]
      - pause: {}
`

// installGatewayAPI installs the standard channel's CRDs of the Gateway
// API module weir builds with.
func installGatewayAPI(t testing.TB, c *localcluster.Cluster) {
	t.Helper()
	dir := filepath.Join(testenv.ModuleDir(t, "sigs.k8s.io/gateway-api"), "config", "crd", "standard")
	var files []string
	for _, kind := range []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies"} {
		files = append(files, filepath.Join(dir, "gateway.networking.k8s.io_"+kind+".yaml"))
	}
	if err := testenv.InstallCRDFiles(c.Config, files...); err != nil {
		t.Fatal(err)
	}
}

// createYAML creates the object in data.
func createYAML(t testing.TB, s *story, data string) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(data), 4096).Decode(&obj.Object); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Create(s.ctx, obj, &client.CreateOptions{}); err != nil {
		t.Fatalf("create %s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

// startTraefik runs Traefik, built from hack/controlplane/traefik (cached
// in .cache/controlplane by version), on the host as the Gateway API
// implementation of c, with one entry point on a free port of the real
// node's address, which it returns. It stops when t ends.
func startTraefik(t testing.TB, c *localcluster.Cluster) int {
	t.Helper()
	bin := buildTraefik(t)
	l, err := net.Listen("tcp", net.JoinHostPort(gatewayAddress, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "traefik.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--entryPoints.web.address="+net.JoinHostPort(gatewayAddress, strconv.Itoa(port)),
		"--providers.kubernetesgateway=true",
		"--log.level=ERROR",
	)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start traefik: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("traefik's log:\n%s", log)
		}
		_ = logFile.Close()
	})
	return port
}

// buildTraefik builds Traefik at the version hack/controlplane/traefik
// pins, once per version.
func buildTraefik(t testing.TB) string {
	t.Helper()
	src, err := filepath.Abs("../../hack/controlplane/traefik")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	list := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "github.com/traefik/traefik/v3")
	list.Dir = src
	version, err := list.Output()
	if err != nil {
		t.Fatalf("Traefik's version in %s: %v", src, err)
	}
	bin := filepath.Join(src, "..", "..", "..", ".cache", "controlplane", "traefik-"+strings.TrimSpace(string(version)), "traefik")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/traefik/traefik/v3/cmd/traefik")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build Traefik: %v\n%s", err, out)
	}
	return bin
}
