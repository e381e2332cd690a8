// Command demo is the workload of weir's real-traffic tests and quick
// start: an HTTP server that answers every path but /healthz with its
// version, fails a share of those requests with 500, and counts them for
// Prometheus. Its environment sets it up:
//
//	DEMO_VERSION     the version it answers with and labels its metrics with
//	DEMO_ERROR_RATE  the share of requests answered 500, from 0 to 1 (default 0)
//	DEMO_ADDR        the address to serve on (default :8080)
//
// It serves /metrics (http_requests_total{code,version} and the latency
// histogram http_request_duration_seconds{version}) and /healthz, neither
// of them counted.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	srv := &http.Server{Addr: cfg.addr, Handler: newHandler(cfg, reg, randomFloat), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		// A pod being deleted gets SIGTERM while the endpoints still list
		// it: finish what is in flight rather than reset it.
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("demo %s serving on %s with error rate %v", cfg.version, cfg.addr, cfg.errorRate)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// config is what the environment sets.
type config struct {
	version   string
	errorRate float64
	addr      string
}

// configFromEnv reads the DEMO_ variables through getenv.
func configFromEnv(getenv func(string) string) (config, error) {
	cfg := config{version: getenv("DEMO_VERSION"), addr: getenv("DEMO_ADDR")}
	if cfg.version == "" {
		cfg.version = "unknown"
	}
	if cfg.addr == "" {
		cfg.addr = ":8080"
	}
	if v := getenv("DEMO_ERROR_RATE"); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil || rate < 0 || rate > 1 {
			return config{}, fmt.Errorf("DEMO_ERROR_RATE %q: want a number from 0 to 1", v)
		}
		cfg.errorRate = rate
	}
	return cfg, nil
}
