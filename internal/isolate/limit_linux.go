package isolate

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"syscall"
)

// limitMemory bounds the process: its Go heap to limit bytes, where the
// garbage collector works hardest, and its address space to what it has
// mapped now plus limit, where allocation fails and the runtime exits. It
// also offers the process first to the kernel's OOM killer, so that when
// the controller's cgroup runs short, a render dies rather than the
// controller.
func limitMemory(limit int64) error {
	debug.SetMemoryLimit(limit)
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0); err != nil {
		return err
	}
	mapped, err := addressSpace()
	if err != nil {
		return err
	}
	max := uint64(mapped + limit)
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: max, Max: max})
}

// addressSpace is the size of the process's mapped address space, VmSize
// in /proc/self/status.
func addressSpace() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		fields := bytes.Fields(s.Bytes())
		if len(fields) == 3 && string(fields[0]) == "VmSize:" {
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			return kb << 10, err
		}
	}
	return 0, syscall.ENOENT
}

// isolateProcess puts the worker in a process group of its own, to kill
// it whole, and has the kernel kill it should the controller die first.
func isolateProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
