package source

import (
	"bytes"
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"

	"weir.dev/weir/internal/testenv"
)

// packOf is a pack of every object of repo's HEAD, as git sends it.
func packOf(t testing.TB, repo *testenv.GitRepo) []byte {
	t.Helper()
	objects := repo.Git("rev-list", "--objects", "HEAD")
	cmd := exec.Command("git", "pack-objects", "--stdout", "-q")
	cmd.Dir = repo.Dir
	cmd.Stdin = bytes.NewBufferString(objects + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckPack(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	commitFiles(repo, "one", map[string]string{"a.txt": randomText(64 << 10)})
	pack := packOf(t, repo)
	if err := checkPack(bytes.NewReader(pack), 64<<10); err != nil {
		t.Errorf("a pack within the limit: %v", err)
	}
	err := checkPack(bytes.NewReader(pack), 64<<10-1)
	want := "blob " + repo.Git("rev-parse", "HEAD:a.txt") + " of 64KiB is over the limit of 65535 bytes for a checkout"
	if !errors.Is(err, ErrCheckoutTooLarge) || !strings.Contains(err.Error(), want) {
		t.Errorf("a pack over the limit: error = %v, want ErrCheckoutTooLarge saying %q", err, want)
	}
}

func TestDeltaTargetSize(t *testing.T) {
	tests := []struct {
		header []byte
		want   int64
	}{
		{[]byte{0x05, 0x07}, 7},
		{[]byte{0x80, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01}, 1 << 28}, // base 128, target 256 MiB
		{[]byte{0x05}, math.MaxInt64},                               // cut short
		{bytes.Repeat([]byte{0xff}, 20), math.MaxInt64},             // no end
	}
	for _, tt := range tests {
		var d deltaHeader
		_, _ = d.Write(tt.header)
		if got := d.targetSize(); got != tt.want {
			t.Errorf("targetSize(% x) = %d, want %d", tt.header, got, tt.want)
		}
	}
}

func FuzzCheckPack(f *testing.F) {
	repo := testenv.NewGitRepo(f)
	commitFiles(repo, "one", map[string]string{"a.yaml": "kind: ConfigMap", "b/c.yaml": randomText(4096)})
	f.Add(packOf(f, repo), int64(1<<20))
	f.Add([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01\x3f\xff\xff\xff\xff\x0f"), int64(1024))
	f.Fuzz(func(t *testing.T, pack []byte, max int64) {
		_ = checkPack(bytes.NewReader(pack), max)
	})
}
