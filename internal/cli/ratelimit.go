package cli

import (
	"context"
	"fmt"
	"net/http"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/client-go/rest"
)

// Without API Priority and Fairness, weir paces itself at fallbackQPS
// requests a second, in bursts of up to fallbackBurst: at the default
// concurrency, a bound that two cores never reach and that keeps a
// busier process from swamping a server that has no other defence than
// its limit of requests in flight.
const (
	fallbackQPS   = 200
	fallbackBurst = 400
)

// setRateLimit sets how fast cfg's clients may send requests. A positive
// qps is a client-side limit of qps a second in bursts of burst, as
// client-go has it, and a negative one no limit. Zero, the default, is no
// limit when the API server has API Priority and Fairness, which queues
// each client's requests in its own flows and answers 429 with a
// Retry-After that client-go waits out and retries after, as
// Kubernetes' API machinery advises; and the fallback limit otherwise.
func setRateLimit(ctx context.Context, cfg *rest.Config, qps float32, burst int) error {
	switch {
	case qps > 0:
		cfg.QPS, cfg.Burst = qps, burst
		return nil
	case qps < 0:
		cfg.QPS = -1
		return nil
	}
	fair, err := flowControlled(ctx, cfg)
	if err != nil {
		return fmt.Errorf("ask the API server whether it has API Priority and Fairness: %w", err)
	}
	if fair {
		cfg.QPS = -1
	} else {
		cfg.QPS, cfg.Burst = fallbackQPS, fallbackBurst
	}
	return nil
}

// flowControlled reports whether the API server cfg points at has API
// Priority and Fairness: its answers then name the FlowSchema that
// classified the request.
func flowControlled(ctx context.Context, cfg *rest.Config) (bool, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return false, err
	}
	server, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.JoinPath("livez", "ping").String(), nil)
	if err != nil {
		return false, err
	}
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	return res.Header.Get(flowcontrolv1.ResponseHeaderMatchedFlowSchemaUID) != "", nil
}
