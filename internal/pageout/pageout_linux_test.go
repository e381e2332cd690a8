package pageout

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBinaryPagesDropsTheBinarysResidentPages runs on the test binary,
// whose start touched its pages as weir's does.
func TestBinaryPagesDropsTheBinarysResidentPages(t *testing.T) {
	before := residentFileKiB(t)
	if err := BinaryPages(); errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel has no MADV_PAGEOUT (Linux 5.4)")
	} else if err != nil {
		t.Fatal(err)
	}
	after := residentFileKiB(t)
	t.Logf("file-backed resident memory: %d KiB before, %d KiB after", before, after)
	if after >= before/2 {
		t.Errorf("file-backed resident memory went from %d KiB to %d KiB, want less than half", before, after)
	}
}

func residentFileKiB(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		var kib int
		if _, err := fmt.Sscanf(line, "RssFile: %d kB", &kib); err == nil {
			return kib
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
