// Package quickstart runs the quick starts as a user runs them, so that
// they keep working as weir changes.
package quickstart

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
)

// root is the checkout the scripts run in.
const root = "../.."

// TestPromotionQuickStart runs hack/quickstart-promotion.sh, as make
// quickstart-promotion does, with weir built from this checkout: an image
// pushed to a real local registry reaches prod by three commits, printed in
// order, the ImageUpdate's to dev and the Pipeline's to staging and prod.
func TestPromotionQuickStart(t *testing.T) {
	if _, err := exec.LookPath("docker-registry"); err != nil {
		t.Skipf("docker-registry is not installed (apt-get install docker-registry): %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".cache", "controlplane")); err != nil {
		t.Skipf("no control plane binaries (make controlplane): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := testenv.BuildWeir(t)
	cmd := exec.CommandContext(ctx, "bash", "hack/quickstart-promotion.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "WEIR="+bin, "WORK="+t.TempDir())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the quick start took %s:\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("hack/quickstart-promotion.sh: %v", err)
	}
	commits := regexp.MustCompile(`(?m)^  \+\d+s  [0-9a-f]+ (.*)$`).FindAllStringSubmatch(string(out), -1)
	var got []string
	for _, c := range commits {
		got = append(got, c[1])
	}
	want := []string{
		"Image Bot: Update web to 1.1.0",
		"Promotion Bot: Promote 127.0.0.1:PORT/shop/web:1.1.0 to staging",
		"Promotion Bot: Promote 127.0.0.1:PORT/shop/web:1.1.0 to prod",
	}
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	if g := port.ReplaceAllString(strings.Join(got, "\n"), "127.0.0.1:PORT"); g != strings.Join(want, "\n") {
		t.Errorf("commits printed:\n%s\nwant:\n%s", g, strings.Join(want, "\n"))
	}
	if !regexp.MustCompile(`web-prod +runs 127\.0\.0\.1:\d+/shop/web:1\.1\.0`).Match(out) {
		t.Error("the quick start does not end with web-prod running 1.1.0")
	}
}
