//go:build !linux

package isolate

import (
	"os/exec"
	"runtime/debug"
)

// limitMemory bounds the Go heap to limit bytes, where the garbage
// collector works hardest. Only Linux bounds the address space as well.
func limitMemory(limit int64) error {
	debug.SetMemoryLimit(limit)
	return nil
}

// isolateProcess leaves the worker as exec starts it: killed alone on
// timeout.
func isolateProcess(*exec.Cmd) {}
