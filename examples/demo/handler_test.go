package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    config
		wantErr string
	}{
		{env: nil, want: config{version: "unknown", addr: ":8080"}},
		{env: map[string]string{"DEMO_VERSION": "v2", "DEMO_ERROR_RATE": "0.5", "DEMO_ADDR": ":9"}, want: config{version: "v2", errorRate: 0.5, addr: ":9"}},
		{env: map[string]string{"DEMO_ERROR_RATE": "1"}, want: config{version: "unknown", errorRate: 1, addr: ":8080"}},
		{env: map[string]string{"DEMO_ERROR_RATE": "1.5"}, wantErr: `DEMO_ERROR_RATE "1.5"`},
		{env: map[string]string{"DEMO_ERROR_RATE": "-0.1"}, wantErr: `DEMO_ERROR_RATE "-0.1"`},
		{env: map[string]string{"DEMO_ERROR_RATE": "half"}, wantErr: `DEMO_ERROR_RATE "half"`},
	}
	for _, tt := range tests {
		got, err := configFromEnv(func(k string) string { return tt.env[k] })
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("configFromEnv(%v) error = %v, want one naming %s", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("configFromEnv(%v) = %+v, %v; want %+v", tt.env, got, err, tt.want)
		}
	}
}

// TestRequestsAreAnsweredAndCounted serves ten requests with draws that
// fail three of them at error rate 0.3, and checks the answers and the
// counters; /healthz and /metrics are not counted.
func TestRequestsAreAnsweredAndCounted(t *testing.T) {
	draws := []float64{0.1, 0.9, 0.2, 0.5, 0.6, 0.7, 0.8, 0.29, 0.3, 0.99}
	next := 0
	draw := func() float64 { next++; return draws[next-1] }
	reg := prometheus.NewRegistry()
	h := newHandler(config{version: "v2", errorRate: 0.3}, reg, draw)
	codes := map[int]int{}
	for range draws {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/anything", nil))
		codes[rec.Code]++
		if rec.Body.String() != "v2\n" || rec.Header().Get("X-Demo-Version") != "v2" {
			t.Errorf("answer %q (X-Demo-Version %q), want the version v2", rec.Body.String(), rec.Header().Get("X-Demo-Version"))
		}
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d", path, rec.Code)
		}
	}
	if codes[200] != 7 || codes[500] != 3 {
		t.Errorf("codes %v, want 7 200s and 3 500s", codes)
	}
	want := `
# HELP http_requests_total Requests served, by status code and version.
# TYPE http_requests_total counter
http_requests_total{code="200",version="v2"} 7
http_requests_total{code="500",version="v2"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "http_request_duration_seconds"); n != 1 {
		t.Errorf("%d latency histograms, want one for v2", n)
	}
}

// TestNoFailuresBeforeTheFirstAreZero: a fresh server exposes both codes
// at zero, so that an error-rate query has data before the first request.
func TestNoFailuresBeforeTheFirstAreZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	newHandler(config{version: "v1"}, reg, randomFloat)
	want := `
# HELP http_requests_total Requests served, by status code and version.
# TYPE http_requests_total counter
http_requests_total{code="200",version="v1"} 0
http_requests_total{code="500",version="v1"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
}
