package scale

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// process is a controller's process, its output in a log file and its
// metrics served on a port of its own.
type process struct {
	cmd        *exec.Cmd
	logFile    string
	metricsURL string
}

// startProcess starts bin with args, env added to the environment, and
// its metrics on metricsAddr. It is killed when the test ends, and its
// log's tail is logged if the test failed.
func startProcess(t testing.TB, name, bin, metricsAddr string, args, env []string) *process {
	t.Helper()
	p := &process{logFile: filepath.Join(t.TempDir(), name+".log"), metricsURL: "http://" + metricsAddr}
	log, err := os.Create(p.logFile)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		log.Close()
		if t.Failed() {
			data, _ := os.ReadFile(p.logFile)
			t.Logf("log of %s:\n%s", name, tail(data, 20000))
		}
	})
	return p
}

// scrape reads the process's metrics, or returns an error while it is not
// serving them yet.
func (p *process) scrape() (metrics, error) {
	res, err := http.Get(p.metricsURL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(res.Body)
}

// rss reads the process's resident memory by kind from /proc/<pid>/status,
// in bytes: anonymous (its heap, stacks and the Go runtime's) and
// file-backed (the pages of its binary it touched, which the kernel may
// drop and share).
func (p *process) rss() (anon, file float64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb float64
		if _, err := fmt.Sscanf(line, "RssAnon: %f kB", &kb); err == nil {
			anon = kb * 1024
		}
		if _, err := fmt.Sscanf(line, "RssFile: %f kB", &kb); err == nil {
			file = kb * 1024
		}
	}
	return anon, file, nil
}

// tail is the last n bytes of data.
func tail(data []byte, n int) []byte {
	if len(data) > n {
		return data[len(data)-n:]
	}
	return data
}
