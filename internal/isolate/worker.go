package isolate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// workerEnv makes a process a render worker; its value is the worker's
// memory limit in bytes.
const workerEnv = "WEIR_RENDER_WORKER"

// ServeIfWorker returns at once unless this process was started by
// Renderer.Render as a render worker. A worker serves its one render and
// exits: it never returns. Call it first thing in main and in TestMain.
func ServeIfWorker() {
	limit := os.Getenv(workerEnv)
	if limit == "" {
		return
	}
	if err := serve(limit, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "render worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve limits the process's memory to limit bytes, then reads a request
// from in and writes its response to out.
func serve(limit string, in io.Reader, out io.Writer) error {
	n, err := strconv.ParseInt(limit, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s=%q is not a number of bytes", workerEnv, limit)
	}
	if err := limitMemory(n); err != nil {
		return fmt.Errorf("limit memory: %w", err)
	}
	var req request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	dec := decrypt.New(req.Keys)
	req.Options.Decrypter = dec
	objs, err := render.Render(context.Background(), req.Root, req.Path, req.Options)
	resp, err := newResponse(objs, err, dec)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(resp)
}
