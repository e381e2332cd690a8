package testenv

import (
	"context"
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
	if testing.Short() {
		t.Skip("needs a real Prometheus (not started under -short)")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed: apt-get install prometheus (.ci/run does): %v", err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, prometheusConfig(t, targets), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Die with the test binary, even if it is killed before cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
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
	if err := waitPrometheusReady(base+"/-/ready", exited); err != nil {
		log, _ := os.ReadFile(logFile.Name())
		t.Fatalf("prometheus is not ready: %v\n%s", err, log)
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

func waitPrometheusReady(url string, exited <-chan error) error {
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
		case err := <-exited:
			return fmt.Errorf("prometheus exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free TCP port on the loopback.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
