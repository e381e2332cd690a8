package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/weir/internal/livediff"
	"weir.dev/weir/internal/ui"
)

func newUICommand(cluster *clusterFlags) *cobra.Command {
	var (
		address         string
		port            int
		login           bool
		insecureCookies bool
	)
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve the web UI, acting as you (your kubeconfig, or with --login the token each user pastes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ip := net.ParseIP(address)
			if !login && (ip == nil || !ip.IsLoopback()) {
				return fmt.Errorf("--address %s: without --login the UI acts with your kubeconfig's credentials, so it serves on a loopback address only", address)
			}
			cfg, err := cluster.restConfig()
			if err != nil {
				return err
			}
			srv, err := ui.New(ui.Options{
				Config: cfg, Login: login, InsecureCookies: insecureCookies,
				// With --login the UI runs on a server: no file:// sources.
				Diff: livediff.Options{SourceDir: userCacheDir("sources"), ChartDir: userCacheDir("charts"), AllowFileSources: !login},
				Log:  slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)),
			})
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(port)))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "weir UI: http://%s/\n", l.Addr())
			return serve(cmd.Context(), l, srv)
		},
	}
	cmd.Flags().StringVar(&address, "address", "127.0.0.1", "address to serve on (a loopback address unless --login)")
	cmd.Flags().IntVar(&port, "port", 8089, "port to serve on")
	cmd.Flags().BoolVar(&login, "login", false, "ask each user for a bearer token and act with it alone, never with this process's credentials (in a cluster)")
	cmd.Flags().BoolVar(&insecureCookies, "insecure-cookies", false, "leave the Secure flag off the session cookie (plain HTTP on a name other than localhost)")
	return cmd
}

// serve serves h on l until ctx ends.
func serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
