package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// probeTTL is how long a probe's answer stands: the Applications of one
// cluster that sync together ask it once.
const probeTTL = 5 * time.Second

// Probe asks a cluster's API server for its version, to tell whether the
// cluster is reachable, and remembers the answer for a few seconds. While
// the cluster is unreachable, callers get that answer at once while a new
// one is asked in the background, so that a cluster that hangs holds up
// its callers at most once, for one timeout; while it is reachable, a
// stale answer is asked anew and awaited, so that a cluster that has just
// stopped answering is found out before a sync sends it anything.
type Probe struct {
	client  rest.Interface
	timeout time.Duration

	mu      sync.Mutex
	checked time.Time
	version string
	err     error
	asking  chan struct{} // closed when the question in flight is answered; nil when none is
}

// NewProbe returns a Probe of the cluster cfg reaches, whose questions
// cfg.Timeout bounds.
func NewProbe(cfg *rest.Config) (*Probe, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Probe{client: dc.RESTClient(), timeout: cfg.Timeout}, nil
}

// ServerVersion returns the cluster's version (its gitVersion), or why
// the cluster did not answer: the answer of at most probeTTL ago, or else
// the last one when it was unreachable (while a new one is asked), or else
// the answer to a question asked now.
func (p *Probe) ServerVersion(ctx context.Context) (string, error) {
	p.mu.Lock()
	if time.Since(p.checked) < probeTTL {
		defer p.mu.Unlock()
		return p.version, p.err
	}
	if p.asking == nil {
		p.asking = make(chan struct{})
		go p.ask(p.asking)
	}
	asking, unreachable := p.asking, p.err
	p.mu.Unlock()
	if unreachable != nil {
		return "", unreachable
	}
	select {
	case <-asking:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.version, p.err
}

// ask asks the cluster its version, records the answer and closes done.
func (p *Probe) ask(done chan struct{}) {
	ctx := context.Background()
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	v, err := serverVersion(ctx, p.client)
	if err != nil {
		err = fmt.Errorf("unreachable: %w", err)
	}
	p.mu.Lock()
	p.version, p.err, p.checked, p.asking = v, err, time.Now(), nil
	p.mu.Unlock()
	close(done)
}

func serverVersion(ctx context.Context, c rest.Interface) (string, error) {
	body, err := c.Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("read /version: %w", err)
	}
	return info.GitVersion, nil
}
