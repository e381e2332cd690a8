package pageout

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// BinaryPages asks the kernel to reclaim the resident pages of the running
// binary's code and read-only data (see the package comment). Pages shared
// with another process stay; nothing is lost, only reloaded on use.
func BinaryPages() error {
	binary, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("find the running binary: %w", err)
	}
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer maps.Close()
	spans, err := readOnlySpans(maps, binary)
	if err != nil {
		return fmt.Errorf("/proc/self/maps: %w", err)
	}
	for _, s := range spans {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, s.start, s.length, unix.MADV_PAGEOUT); errno != 0 {
			return fmt.Errorf("madvise(MADV_PAGEOUT) on %s at %#x: %w", binary, s.start, errno)
		}
	}
	return nil
}
