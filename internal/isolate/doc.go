// Package isolate renders in a child process, so that a hostile commit
// cannot take the controller's memory or keep its CPU after a render has
// given up. Go templates and kustomize's builds cannot be interrupted and
// measure their output only once they have produced it; a process can be
// bounded while it works and killed.
//
// Renderer.Render re-executes the running binary (weir, or a test binary)
// with the environment variable that makes it a render worker. The worker
// limits its own address space and Go heap before it reads anything, reads
// one request from stdin (the checkout, the path, render.Options and the
// Application's SOPS keys, which never touch the disk, the command line or
// the environment), renders it with package render, writes the objects to
// stdout and exits. The parent reads that answer through a size-bounded
// reader and kills the worker's process group when the render outlives its
// timeout or its answer its output bound.
//
// Plain manifests of at most MaxInProcessBytes together, with no YAML
// alias or SOPS metadata and no SOPS keys to decrypt them with, are
// decoded in the calling process instead: what they cost is bounded by their size, and a worker
// would add its start, about 90 ms, to every such render.
//
// Every main that may render, and every TestMain of a test binary that does,
// calls ServeIfWorker before anything else; testenv.Main, started as a
// worker, exits with an error naming the missing call.
package isolate
