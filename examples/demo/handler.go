package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// randomFloat returns a number in [0, 1): the draw that decides whether a
// request fails.
func randomFloat() float64 { return rand.Float64() }

// newHandler serves cfg's version on every path but /metrics and /healthz,
// failing a request with 500 when draw() falls below cfg.errorRate, and
// registers its metrics with reg.
func newHandler(cfg config, reg *prometheus.Registry, draw func() float64) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "Requests served, by status code and version.",
	}, []string{"code", "version"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time to serve a request, by version.",
		Buckets: prometheus.DefBuckets,
	}, []string{"version"})
	reg.MustRegister(requests, latency)
	// Both codes exist from the start, so that a rate over them is 0
	// rather than no data before the first failure.
	requests.WithLabelValues("200", cfg.version)
	requests.WithLabelValues("500", cfg.version)

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		start := time.Now()
		code := http.StatusOK
		if draw() < cfg.errorRate {
			code = http.StatusInternalServerError
		}
		w.Header().Set("X-Demo-Version", cfg.version)
		w.WriteHeader(code)
		_, _ = fmt.Fprintln(w, cfg.version)
		requests.WithLabelValues(strconv.Itoa(code), cfg.version).Inc()
		latency.WithLabelValues(cfg.version).Observe(time.Since(start).Seconds())
	})
	return mux
}
