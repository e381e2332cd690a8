package traffic

import (
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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

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
// the new version, and no request under the constant load fails over
// the whole canary and its promotion (the stable Deployment takes the new
// template only once the canary serves all the traffic, and the canary's
// pods stay scaleDownDelay after the traffic went back to stable). Then a bad version (half its requests fail) is caught
// by a Prometheus analysis of the pods' http_requests_total, which count
// only the requests that came through the Gateway, aborted, its requests
// through the Gateway stop, and weir's revert lands in Git.
func TestCanaryThroughTheGateway(t *testing.T) {
	s, gateway := gatewayStory(t)
	background, stop := constantLoad(gateway, 2, 10*time.Millisecond) // the analysis needs requests
	defer stop()
	s.repo.Write("web.yaml", demoDeployment("v2", "0"))
	s.repo.Commit("release v2")
	for _, weight := range []int32{20, 50, 80} {
		s.waitGatewayPause(weight)
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
	t.Logf("constant load through the Gateway during the good release: %s", background)
	if f := background.failed(); f != 0 {
		t.Errorf("%d of %d requests through the Gateway failed during the canary and its promotion (last: %s)", f, background.requests(), background.last())
	}

	took := s.releaseBad(gateway, s.waitGatewayPause)
	t.Logf("through the Gateway, from the abort seen to every request on stable: %s", took)
}

// gatewayStory has weir sync, in a namespace of its own with a Prometheus
// scraping it and a Traefik serving its Gateway, a repository holding the
// demo at v1 behind HTTPRoute web and gatewayRollout, with the error-rate
// analysis. It returns once the Gateway serves v1, with its address.
func gatewayStory(t *testing.T) (*story, string) {
	t.Helper()
	c, cl := realCluster(t)
	installGatewayAPI(t, c)
	s := newStory(t, cl, "gateway")
	port := startTraefik(t, c)
	createYAML(t, s, gatewayClass)
	createYAML(t, s, fmt.Sprintf(gatewayObject, s.ns, port))
	gateway := "http://" + net.JoinHostPort(gatewayAddress, strconv.Itoa(port)) + "/"
	s.repo.Write("web.yaml", demoDeployment("v1", "0"))
	s.repo.Write("svc.yaml", demoService)
	s.repo.Write("route.yaml", demoRoute)
	s.repo.Write("rollout.yaml", gatewayRollout)
	s.repo.Write("analysis.yaml", errorRateTemplate(s.startPrometheus()))
	s.repo.Commit("the demo at v1 behind the Gateway")
	s.createApplication()
	s.waitServing(gateway, "v1")
	return s, gateway
}

// waitGatewayPause waits until gatewayRollout pauses at weight (at 80,
// after the header route) with the canary's pods Ready.
func (s *story) waitGatewayPause(weight int32) {
	s.t.Helper()
	s.waitRollout(fmt.Sprintf("paused at %d%%", weight), func(ro *weirv1.Rollout) bool {
		return ro.Status.Phase == weirv1.RolloutPaused && ro.Status.CanaryWeight == weight && s.readyPods("web-canary") > 0 &&
			(weight != 80 || ro.Status.CurrentStep == 6)
	})
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
  onFailure: {revertInGit: true}
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
      - analysis:
          templates: [{name: error-rate}]
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

// createYAML creates the object in data; a cluster-wide one that an
// earlier test of the package created is kept.
func createYAML(t testing.TB, s *story, data string) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(data), 4096).Decode(&obj.Object); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Create(s.ctx, obj); err != nil && !(obj.GetNamespace() == "" && apierrors.IsAlreadyExists(err)) {
		t.Fatalf("create %s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

// startTraefik runs Traefik, built with the real node's binaries (see
// localcluster.BuildOptions), on the host as the Gateway API
// implementation of c, with one entry point on a free port of the real
// node's address, which it returns. It stops when t ends.
func startTraefik(t testing.TB, c *localcluster.Cluster) int {
	t.Helper()
	bins := testenv.Binaries(t)
	if bins.Traefik == "" {
		t.Fatal("no Traefik among the real node's binaries: its build module, hack/controlplane/traefik, is only in a weir checkout")
	}
	bin := bins.Path("traefik")
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
