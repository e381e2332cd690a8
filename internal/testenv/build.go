package testenv

import (
	"os/exec"
	"path/filepath"
	"testing"

	"weir.dev/weir/internal/version"
)

// BuildWeir builds weir's binary as make build does, into a directory of
// t's, and returns its path.
func BuildWeir(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "weir")
	if out, err := exec.Command("go", "build", "-tags="+version.BuildTags, "-o", bin, "weir.dev/weir/cmd/weir").CombinedOutput(); err != nil {
		t.Fatalf("go build weir: %v\n%s", err, out)
	}
	return bin
}
