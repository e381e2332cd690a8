package analysis

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
)

// internalSecret stands for what an internal endpoint answers that the
// Rollout's author must not get to read through weir.
const internalSecret = "internal-only-7c1f"

func TestWebMetricsNeverQuoteTheResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/error":
			http.Error(w, "admin console: "+internalSecret, http.StatusForbidden)
		case "/html":
			fmt.Fprint(w, internalSecret+"<html>")
		default:
			fmt.Fprint(w, `{"config": {"password": "`+internalSecret+`"}, "rate": 0.5}`)
		}
	}))
	defer srv.Close()
	w := newWebProvider(nil, srv.Client())
	ctx := testenv.Context(t, time.Minute)
	tests := []struct{ name, path, jsonPath, want string }{
		{"an error status", "/error", ".rate", "403 Forbidden"},
		{"a document that is not JSON", "/html", ".rate", "the response is not JSON"},
		{"a path that matches nothing", "/json", ".missing", `jsonPath ".missing" selects nothing in the response`},
		{"a filter over an object", "/json", "{.config[?(@.x==1)]}", "selects nothing in the response"},
		{"no path over an object", "/json", "", "set jsonPath to the value to judge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := w.fetch(ctx, http.MethodGet, srv.URL+tt.path, "", http.Header{}, 0)
			if err == nil {
				_, err = selectJSON(doc, tt.jsonPath)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), internalSecret) {
				t.Errorf("the error quotes the response: %v", err)
			}
		})
	}
}

func TestAllowedHostsBoundWhatAnalysisReaches(t *testing.T) {
	var (
		mu      sync.Mutex
		reached []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Host+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/redirect" {
			// To the same server under a name that is not allowed.
			http.Redirect(w, r, strings.Replace("http://"+r.Host, "127.0.0.1", "localhost", 1)+"/inside", http.StatusFound)
			return
		}
		fmt.Fprint(w, `{"rate": 1}`)
	}))
	defer srv.Close()
	ctx := testenv.Context(t, time.Minute)
	w := newWebProvider(nil, guardHosts(srv.Client(), []string{"127.0.0.1", "*.monitoring.svc"}))

	if _, err := w.fetch(ctx, http.MethodGet, srv.URL+"/allowed", "", http.Header{}, 0); err != nil {
		t.Errorf("an allowed host: %v", err)
	}
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/inside"
	if _, err := w.fetch(ctx, http.MethodGet, url, "", http.Header{}, 0); err == nil || !strings.Contains(err.Error(), `host "localhost" is not one the controller allows`) {
		t.Errorf("a host not allowed: %v", err)
	}
	if _, err := w.fetch(ctx, http.MethodGet, srv.URL+"/redirect", "", http.Header{}, 0); err == nil {
		t.Error("a redirect to a host not allowed was followed")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{srv.Listener.Addr().String() + "/allowed", srv.Listener.Addr().String() + "/redirect"}; fmt.Sprint(reached) != fmt.Sprint(want) {
		t.Errorf("the server saw %v, want %v", reached, want)
	}
}

func TestHostAllowed(t *testing.T) {
	allowed := []string{"prometheus.monitoring", "*.metrics.example.com", "10.0.0.7"}
	tests := []struct {
		host string
		want bool
	}{
		{"prometheus.monitoring", true},
		{"Prometheus.Monitoring.", true},
		{"api.metrics.example.com", true},
		{"metrics.example.com", false},
		{"evilmetrics.example.com", false},
		{"10.0.0.7", true},
		{"169.254.169.254", false},
		{"kubernetes.default.svc", false},
	}
	for _, tt := range tests {
		if got := hostAllowed(tt.host, allowed); got != tt.want {
			t.Errorf("hostAllowed(%q) = %t, want %t", tt.host, got, tt.want)
		}
	}
}
