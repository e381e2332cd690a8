package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"weir.dev/weir/internal/localcluster"
)

// PrometheusScrapeInterval is how often the Prometheus of StartPrometheus
// scrapes its targets.
const PrometheusScrapeInterval = time.Second

// StartPrometheus runs a real Prometheus (the binary of Debian's prometheus
// package, which .ci/run installs) for the test: a temporary configuration
// that scrapes each target's /metrics every second, temporary storage, a
// free port on the loopback. Targets are URLs ("http://127.0.0.1:8080", as
// httptest.Server.URL gives) or host:port. It returns Prometheus' URL once
// it is ready, and stops it when the test ends. Under -short the test is
// skipped.
func StartPrometheus(t testing.TB, targets ...string) string {
	t.Helper()
	return startPrometheus(t, prometheusConfig(t, targets))
}

// StartPrometheusOnPods is StartPrometheus scraping every container port
// named "metrics" of the pods in namespace that are running with an
// address (on a real node, the host reaches the pod network). Each series
// is labelled with its pod and its Deployment (the pod's ReplicaSet
// without its hash). Debian's Prometheus is built without Kubernetes
// service discovery, so the test discovers the pods itself, from the API
// server of client, every half second, and gives them to Prometheus as a
// file it re-reads (file_sd_configs).
func StartPrometheusOnPods(t testing.TB, client kubernetes.Interface, namespace string) string {
	t.Helper()
	targets := filepath.Join(t.TempDir(), "pods.json")
	if err := os.WriteFile(targets, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		discoverPods(ctx, client, namespace, targets)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return startPrometheus(t, fmt.Appendf(nil, `global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
- job_name: pods
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  file_sd_configs:
  - files: [%[2]q]
    refresh_interval: 1s
`, PrometheusScrapeInterval, targets))
}

// podTargets is a file_sd_configs target group.
type podTargets struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// discoverPods writes the scrape targets of namespace's pods to file every
// half second until ctx ends.
func discoverPods(ctx context.Context, client kubernetes.Interface, namespace, file string) {
	var last []byte
	for ctx.Err() == nil {
		if groups, err := listPodTargets(ctx, client, namespace); err == nil {
			if data, err := json.Marshal(groups); err == nil && !bytes.Equal(data, last) {
				if writeFileAtomic(file, data) == nil {
					last = data
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func listPodTargets(ctx context.Context, client kubernetes.Interface, namespace string) ([]podTargets, error) {
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	groups := []podTargets{}
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		labels := map[string]string{"pod": p.Name}
		if owner := metav1.GetControllerOf(&p); owner != nil && owner.Kind == "ReplicaSet" {
			if i := strings.LastIndex(owner.Name, "-"); i > 0 {
				labels["deployment"] = owner.Name[:i]
			}
		}
		for _, c := range p.Spec.Containers {
			for _, port := range c.Ports {
				if port.Name == "metrics" {
					groups = append(groups, podTargets{Targets: []string{net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(port.ContainerPort)))}, Labels: labels})
				}
			}
		}
	}
	return groups, nil
}

// writeFileAtomic replaces file with data in one rename, so that
// Prometheus never reads half a file.
func writeFileAtomic(file string, data []byte) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// startPrometheus runs Prometheus with config (see StartPrometheus).
func startPrometheus(t testing.TB, configData []byte) string {
	t.Helper()
	return startDaemon(t, "prometheus", "prometheus", configData, func(config, dir, addr string) []string {
		return []string{
			"--config.file=" + config,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}
	})
}

// startDaemon runs bin (of Debian's package pkg, which .ci/run installs)
// for the test with configData as its configuration, a temporary
// directory and a free port on the loopback, given to it by args. It
// returns the daemon's URL once /-/ready answers, and stops it when the
// test ends. Under -short the test is skipped.
func startDaemon(t testing.TB, bin, pkg string, configData []byte, args func(config, dir, addr string) []string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs a real %s (not started under -short)", bin)
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s is not installed: apt-get install %s (.ci/run does): %v", bin, pkg, err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, configData, 0o600); err != nil {
		t.Fatal(err)
	}
	ports, err := localcluster.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	logFile, err := os.Create(filepath.Join(dir, bin+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args(config, dir, addr)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Die with the test binary, even if it is killed before cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	// Closed when the daemon has exited, so that both the wait for it to be
	// ready and the cleanup see it: one that did not start is not waited
	// for forever.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
	})
	base := "http://" + addr
	if err := waitReady(bin, base+"/-/ready", exited, &waitErr); err != nil {
		log, _ := os.ReadFile(logFile.Name())
		t.Fatalf("%s is not ready: %v\n%s", bin, err, log)
	}
	return base
}

// prometheusConfig scrapes every target in one job, "test".
func prometheusConfig(t testing.TB, targets []string) []byte {
	t.Helper()
	quoted := make([]string, 0, len(targets))
	for _, target := range targets {
		if strings.Contains(target, "://") {
			u, err := url.Parse(target)
			if err != nil {
				t.Fatalf("prometheus target %q: %v", target, err)
			}
			target = u.Host
		}
		quoted = append(quoted, strconv.Quote(target))
	}
	return fmt.Appendf(nil, `global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
- job_name: test
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  static_configs:
  - targets: [%[2]s]
`, PrometheusScrapeInterval, strings.Join(quoted, ", "))
}

// waitReady waits for url to answer 200; when exited closes first, it
// returns *waitErr, the exit of bin.
func waitReady(bin, url string, exited <-chan struct{}, waitErr *error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited: %v", bin, *waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
