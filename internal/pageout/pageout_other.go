//go:build !linux

package pageout

// BinaryPages does nothing where the kernel has no MADV_PAGEOUT.
func BinaryPages() error { return nil }
