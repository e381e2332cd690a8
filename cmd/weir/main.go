// Command weir is a GitOps controller for Kubernetes with progressive
// delivery built in. See the README for the quick start.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// TLS roots for when the system has none, as in weir's image.
	_ "golang.org/x/crypto/x509roots/fallback"

	"weir.dev/weir/internal/cli"
	"weir.dev/weir/internal/isolate"
)

func main() {
	// weir re-executes itself to render in a child process.
	isolate.ServeIfWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
