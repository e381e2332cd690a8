// Command coredns is CoreDNS with only the plugins a local cluster's DNS
// needs (Service and pod names from the API server, the address to serve, health), built from
// its Go module like the rest of the local cluster: the full CoreDNS
// compiles in every cloud provider's SDK.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

// directives are the plugins compiled in, in the order CoreDNS runs them
// (the order of its own plugin.cfg).
var directives = []string{"bind", "ready", "health", "errors", "loadbalance", "cache", "kubernetes"}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
