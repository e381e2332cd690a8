package scale

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"weir.dev/weir/internal/testenv"
)

var (
	weirFlag        = flag.String("weir", "", "the weir binary to measure (default: built from this checkout)")
	argsFlag        = flag.String("args", "", "more flags for weir controller, space-separated (--concurrency=16 --kube-api-qps=200)")
	heapProfileFlag = flag.String("heapprofile", "", "write the controller's heap profile at rest to this file (go tool pprof reads it)")
)

// controller is a `weir controller` process, its webhook receiver and
// pprof server on ports of their own.
type controller struct {
	*process
	webhookURL string
	pprofURL   string
}

// startController builds weir and starts `weir controller` as the
// cluster's administrator, with the webhook token in the Secret secret
// (namespace/name). It is killed when the benchmark ends.
func startController(t testing.TB, secret string) *controller {
	t.Helper()
	dir := t.TempDir()
	bin := *weirFlag
	if bin == "" {
		bin = testenv.BuildWeir(t)
	}
	metrics, webhook, pprof := freeAddr(t), freeAddr(t), freeAddr(t)
	args := append([]string{"--kubeconfig=" + testenv.Cluster(t).Kubeconfig, "controller",
		"--metrics-bind-address=" + metrics, "--health-probe-bind-address=0", "--webhook-bind-address=" + webhook,
		"--webhook-secret=" + secret, "--cache-dir=" + filepath.Join(dir, "cache")}, strings.Fields(*argsFlag)...)
	if *heapProfileFlag != "" {
		// Only then: a weir binary of before the flag (-weir) runs too.
		args = append(args, "--pprof-bind-address="+pprof)
	}
	return &controller{
		process:    startProcess(t, "weir", bin, metrics, args, nil),
		webhookURL: "http://" + webhook,
		pprofURL:   "http://" + pprof,
	}
}

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// writeHeapProfile saves the controller's heap profile, after a garbage
// collection, to path.
func (c *controller) writeHeapProfile(path string) error {
	res, err := http.Get(c.pprofURL + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// metrics are the metric families of one scrape.
type metrics map[string]*dto.MetricFamily

// sum is the sum of the family's counters, gauges or histogram sums whose
// labels include the given ones.
func (m metrics) sum(name string, labels ...string) float64 {
	var total float64
	for _, s := range m[name].GetMetric() {
		if !hasLabels(s, labels) {
			continue
		}
		total += s.GetCounter().GetValue() + s.GetGauge().GetValue() + s.GetHistogram().GetSampleSum()
	}
	return total
}

// count is the number of observations of a histogram family whose labels
// include the given ones.
func (m metrics) count(name string, labels ...string) float64 {
	var total float64
	for _, s := range m[name].GetMetric() {
		if hasLabels(s, labels) {
			total += float64(s.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// hasLabels reports whether the series has every name=value pair of
// labels (name, value, name, value, ...).
func hasLabels(s *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range s.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
