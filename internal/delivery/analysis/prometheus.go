package analysis

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"weir.dev/weir/api/v1alpha1"
)

// defaultPrometheusTimeout bounds a query whose metric sets no timeout.
const defaultPrometheusTimeout = 30 * time.Second

// prometheusProvider runs PromQL queries that yield one number.
type prometheusProvider struct {
	http *http.Client

	mu   sync.Mutex
	apis map[string]promv1.API // by address
}

func newPrometheusProvider(c *http.Client) *prometheusProvider {
	return &prometheusProvider{http: c, apis: map[string]promv1.API{}}
}

func (p *prometheusProvider) api(address string) (promv1.API, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.apis[address]; ok {
		return a, nil
	}
	c, err := api.NewClient(api.Config{Address: address, Client: p.http})
	if err != nil {
		return nil, fmt.Errorf("prometheus address %q: %w", address, err)
	}
	a := promv1.NewAPI(c)
	p.apis[address] = a
	return a, nil
}

// measure runs the query at req.now. A scalar or a one-element vector is
// judged; an empty vector or NaN is Inconclusive: no data never passes.
func (p *prometheusProvider) measure(ctx context.Context, req request) (observation, error) {
	pm := req.spec.metric.Provider.Prometheus
	a, err := p.api(pm.Address)
	if err != nil {
		return observation{}, err
	}
	var set time.Duration
	if pm.Timeout != nil {
		set = pm.Timeout.Duration
	}
	timeout := measureTimeout(set, defaultPrometheusTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	value, _, err := a.Query(ctx, pm.Query, req.now, promv1.WithTimeout(timeout))
	if err != nil {
		return observation{}, fmt.Errorf("prometheus query at %s: %w", pm.Address, err)
	}
	return observePrometheus(value)
}

// observePrometheus reads a query's value as one number.
func observePrometheus(value model.Value) (observation, error) {
	var v float64
	switch t := value.(type) {
	case *model.Scalar:
		v = float64(t.Value)
	case model.Vector:
		switch len(t) {
		case 0:
			return observation{phase: v1alpha1.AnalysisInconclusive,
				message: "no data: the query returned an empty vector"}, nil
		case 1:
			v = float64(t[0].Value)
		default:
			return observation{}, fmt.Errorf("the query returned %d series; it must yield a scalar or one series (aggregate it, with sum for example)", len(t))
		}
	default:
		return observation{}, fmt.Errorf("the query returned a %s; it must yield a scalar or one series", value.Type())
	}
	if math.IsNaN(v) {
		return observation{value: "NaN", phase: v1alpha1.AnalysisInconclusive,
			message: "no data: the query returned NaN, as 0/0 does when there is no traffic"}, nil
	}
	return observation{result: v, value: formatFloat(v)}, nil
}

// formatFloat writes a measured number briefly: six significant digits.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}
