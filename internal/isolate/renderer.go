package isolate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// DefaultMaxMemoryBytes is a worker's memory limit when Renderer leaves it
// zero.
const DefaultMaxMemoryBytes = 512 << 20

// waitDelay is how long a killed worker may take to close its pipes.
const waitDelay = time.Second

// Renderer renders in a child process, one per render, but for small
// plain manifests. The zero value
// re-executes the running binary with the default memory limit.
type Renderer struct {
	// Executable is the binary to run as a worker; "" means the running
	// one. It must call ServeIfWorker first thing.
	Executable string
	// MaxMemoryBytes bounds a worker's Go heap and the address space it
	// may add to what it maps at start; zero or less means
	// DefaultMaxMemoryBytes. A render that needs more fails.
	MaxMemoryBytes int64
}

// Render renders path below root as render.Render does, in a worker, and
// decrypts with the keys of dec, which then redacts the values the worker
// decrypted; opts.Decrypter is ignored. Small plain manifests, which need
// no worker, are decoded in this process (see MaxInProcessBytes). The worker is killed when
// opts.Timeout passes, when its answer (the objects, as JSON) exceeds
// opts.MaxOutputBytes, or when ctx ends; Render returns once it is gone.
func (r *Renderer) Render(ctx context.Context, root, path string, opts render.Options, dec *decrypt.Decryptor) ([]*unstructured.Unstructured, error) {
	opts, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	if objs, done, err := renderInProcess(ctx, root, path, opts, dec); done {
		return objs, err
	}
	opts.Decrypter = nil
	resp, err := r.run(ctx, request{Root: root, Path: path, Options: opts, Keys: dec.Keys()}, opts)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", displayPath(path), err)
	}
	dec.AddValues(resp.Decrypted)
	return resp.result()
}

// run starts a worker, hands it req and reads its answer.
func (r *Renderer) run(ctx context.Context, req request, opts render.Options) (*response, error) {
	if os.Getenv(workerEnv) != "" {
		// A binary that does not call ServeIfWorker would run its main,
		// or all of its tests, as a worker, and start workers of its own.
		return nil, errors.New("a render worker may not start workers: the executable does not call isolate.ServeIfWorker")
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	exe, err := r.executable()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, errTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), workerEnv+"="+strconv.FormatInt(r.maxMemory(), 10))
	cmd.Stdin = bytes.NewReader(in)
	stderr := &head{max: 4096}
	cmd.Stderr = stderr
	cmd.WaitDelay = waitDelay
	isolateProcess(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Linux sends the worker its parent-death signal when the thread that
	// started it exits, not the process; a thread exits whenever a
	// goroutine ends locked to it. Holding this goroutine's thread until
	// Wait has returned keeps the worker's parent alive as long as the
	// render is.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start render worker: %w", err)
	}
	out, readErr := io.ReadAll(io.LimitReader(stdout, opts.MaxOutputBytes+1))
	tooLarge := int64(len(out)) > opts.MaxOutputBytes
	if tooLarge {
		cancel()
	}
	waitErr := cmd.Wait()
	switch {
	case tooLarge:
		return nil, fmt.Errorf("the render produced more than the %d bytes one render may produce", opts.MaxOutputBytes)
	case errors.Is(context.Cause(ctx), errTimeout):
		return nil, fmt.Errorf("rendering took longer than %s", opts.Timeout)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case waitErr != nil && stderr.outOfMemory():
		return nil, fmt.Errorf("the render needed more than the %d MiB of memory one render may use", r.maxMemory()>>20)
	case killed(waitErr):
		return nil, errors.New("the render worker was killed, most likely by the kernel when the controller's memory ran short")
	case waitErr != nil:
		// Its stderr stays out: a panic may quote what it rendered.
		return nil, fmt.Errorf("render worker: %w", waitErr)
	case readErr != nil:
		return nil, fmt.Errorf("read render worker's answer: %w", readErr)
	}
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("render worker's answer: %w", err)
	}
	return &resp, nil
}

// killed reports whether the worker died of SIGKILL, which weir sends only
// on timeout or for too large an answer.
func killed(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// errTimeout ends a render that outlived its timeout.
var errTimeout = errors.New("render timeout")

// executable is the binary to run as a worker.
func (r *Renderer) executable() (string, error) {
	if r.Executable != "" {
		return r.Executable, nil
	}
	return os.Executable()
}

// maxMemory is the worker's memory limit.
func (r *Renderer) maxMemory() int64 {
	if r.MaxMemoryBytes <= 0 {
		return DefaultMaxMemoryBytes
	}
	return r.MaxMemoryBytes
}

// displayPath names the rendered path in errors, as render does.
func displayPath(p string) string {
	return path.Clean("./" + p)
}

// head keeps the first bytes written to it: enough of a worker's stderr
// to tell that the Go runtime ran out of memory, which it says before
// dumping its goroutines.
type head struct {
	max int
	buf []byte
}

func (h *head) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// outOfMemory reports whether the worker died for want of memory: an
// allocation the Go runtime could not make, or a thread it could not
// create.
func (h *head) outOfMemory() bool {
	s := string(h.buf)
	return strings.Contains(s, "out of memory") || strings.Contains(s, "cannot allocate memory") ||
		strings.Contains(s, "failed to create new OS thread")
}
