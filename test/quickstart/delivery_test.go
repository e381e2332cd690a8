package quickstart

import (
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

// TestQuickstartWithoutARealNode runs the quick start with REAL_NODE=no:
// it says it has no real node, promotes the good release, and rolls the
// bad one back with weir's revert commit in the repository's log.
func TestQuickstartWithoutARealNode(t *testing.T) {
	out := runQuickstart(t, "no")
	for _, want := range []string{
		"No real node (REAL_NODE=no)",
		"A good release: web moves to nginx:1.27.1",
		"A bad release: the health endpoint reports 50% success",
		"The audit trail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the quick start's output lacks %q", want)
		}
	}
	if !revertCommit.MatchString(out) {
		t.Errorf("the quick start's output shows no revert commit of weir's")
	}
}

// revertCommit is weir's revert commit in the repository's log.
var revertCommit = regexp.MustCompile(`(?m)^[0-9a-f]+ weir: Revert [0-9a-f]+: Rollout default/web failed$`)

// TestQuickstartOnTheRealNode runs the quick start with REAL_NODE=yes and
// reads the traffic split it measured through the Gateway at each step:
// all on v1; v2 at 20 and 50% (within 5 points of 1,000 requests); all on
// v2 once promoted; the bad v3 at 20% with failed requests; all on v2,
// none failed, once weir has reverted it in Git.
func TestQuickstartOnTheRealNode(t *testing.T) {
	if os.Getenv("CI") == "" {
		// CI installs what the real node and Prometheus need.
		if err := localcluster.CheckRealNodeHost(); err != nil {
			t.Skip(err)
		}
		if _, err := exec.LookPath("prometheus"); err != nil {
			t.Skip("Prometheus is missing (apt-get install prometheus)")
		}
	}
	out := runQuickstart(t, "yes")
	splits := measuredSplits(out)
	want := []struct {
		version string
		share   float64
		failed  bool
	}{
		{"v1", 100, false}, {"v2", 20, false}, {"v2", 50, false}, {"v2", 100, false},
		{"v3", 20, true}, {"v2", 100, false},
	}
	if len(splits) != len(want) {
		t.Fatalf("the quick start measured %d traffic splits, want %d: %v", len(splits), len(want), splits)
	}
	for i, w := range want {
		got := splits[i]
		if math.Abs(got.shares[w.version]-w.share) > 5 || (got.failed > 0) != w.failed {
			t.Errorf("split %d: %s, want %s at %.0f%% and failures %v", i+1, got.line, w.version, w.share, w.failed)
		}
	}
	if !revertCommit.MatchString(out) {
		t.Errorf("the quick start's output shows no revert commit of weir's")
	}
}

// runQuickstart runs hack/quickstart.sh, as make quickstart does, with a
// weir built from this checkout, in a directory of the test's, and returns
// its output.
func runQuickstart(t *testing.T, realNode string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	weir := testenv.BuildWeir(t)
	// Not t.TempDir: the real node's socket paths must stay short.
	dir, err := os.MkdirTemp("", "weir-quickstart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cmd := exec.Command("hack/quickstart.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WEIR="+weir, "QUICKSTART_DIR="+dir, "REAL_NODE="+realNode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/quickstart.sh (REAL_NODE=%s): %v\n%s", realNode, err, out)
	}
	t.Logf("hack/quickstart.sh (REAL_NODE=%s):\n%s", realNode, out)
	if !strings.Contains(string(out), "The quick start took ") {
		t.Error("the quick start does not say how long it took")
	}
	return string(out)
}

// split is one traffic split the quick start printed.
type split struct {
	line   string
	shares map[string]float64
	failed int
}

var (
	splitLine = regexp.MustCompile(`(?m)^\s*\d+ requests through the Gateway: (.*); (\d+) failed$`)
	shareOf   = regexp.MustCompile(`(\S+) ([\d.]+)%`)
)

// measuredSplits reads the traffic splits in the quick start's output.
func measuredSplits(out string) []split {
	var splits []split
	for _, m := range splitLine.FindAllStringSubmatch(out, -1) {
		s := split{line: strings.TrimSpace(m[0]), shares: map[string]float64{}}
		for _, share := range shareOf.FindAllStringSubmatch(m[1], -1) {
			s.shares[share[1]], _ = strconv.ParseFloat(share[2], 64)
		}
		s.failed, _ = strconv.Atoi(m[2])
		splits = append(splits, s)
	}
	return splits
}
