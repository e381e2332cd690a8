package analysis

import (
	"fmt"
	"net/http"
	"strings"
)

// WithAllowedHosts limits the hosts that Prometheus and web metrics may
// reach, redirects included, to hosts: a name or address matches itself
// (case aside, any port), and "*.example.com" matches every name under
// example.com. No hosts, the default, allow every host: a Rollout's author
// can then have the controller fetch any URL it can reach.
func WithAllowedHosts(hosts ...string) Option {
	return func(o *options) { o.allowedHosts = append(o.allowedHosts, hosts...) }
}

// hostGuard refuses requests to the hosts its list does not allow.
type hostGuard struct {
	next    http.RoundTripper
	allowed []string
}

// guardHosts returns a copy of c that only reaches the hosts allowed, or c
// when every host is.
func guardHosts(c *http.Client, allowed []string) *http.Client {
	if len(allowed) == 0 {
		return c
	}
	guarded := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	guarded.Transport = &hostGuard{next: next, allowed: allowed}
	return &guarded
}

// RoundTrip sends req if its host is allowed.
func (g *hostGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if host := req.URL.Hostname(); !hostAllowed(host, g.allowed) {
		return nil, fmt.Errorf("host %q is not one the controller allows analysis to reach (--analysis-allowed-hosts)", host)
	}
	return g.next.RoundTrip(req)
}

// hostAllowed reports whether host matches one of the patterns allowed.
func hostAllowed(host string, allowed []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pattern := range allowed {
		pattern = strings.ToLower(strings.TrimSpace(pattern))
		if suffix, ok := strings.CutPrefix(pattern, "*"); ok && strings.HasPrefix(suffix, ".") {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		} else if host == pattern {
			return true
		}
	}
	return false
}
