package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/client-go/rest"
)

func TestTheRateLimitIsLeftToPriorityAndFairnessWhenTheServerHasIt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fair      bool
		qps       float32
		wantQPS   float32
		wantBurst int
	}{
		{"default, with Priority and Fairness", true, 0, -1, 0},
		{"default, without", false, 0, fallbackQPS, fallbackBurst},
		{"a limit set", true, 20, 20, 40},
		{"no limit set", false, -1, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/livez/ping" {
					t.Errorf("asked %s", r.URL.Path)
				}
				if tc.fair {
					w.Header().Set(flowcontrolv1.ResponseHeaderMatchedFlowSchemaUID, "a-flow-schema")
				}
			}))
			defer server.Close()
			cfg := &rest.Config{Host: server.URL}
			if err := setRateLimit(context.Background(), cfg, tc.qps, 40); err != nil {
				t.Fatal(err)
			}
			if cfg.QPS != tc.wantQPS || cfg.QPS > 0 && cfg.Burst != tc.wantBurst {
				t.Errorf("QPS %v, burst %d; want %v, %d", cfg.QPS, cfg.Burst, tc.wantQPS, tc.wantBurst)
			}
		})
	}
}
