package scale

import (
	"context"
	"flag"
	"fmt"
	"time"

	"weir.dev/weir/internal/testenv"
)

var controllerFlag = flag.String("controller", "weir", "the GitOps controller BenchmarkScale measures: weir, or flux (Flux's source-controller and kustomize-controller, built from their Go modules)")

// gitops is the GitOps controller a scenario measures, weir or Flux, as
// far as the measures see it: an app is the controller's object that syncs
// a path of a repository into a namespace, named after that namespace.
type gitops interface {
	// deploy creates the app of namespace ns: repo's path (the whole
	// repository when path is empty) synced into ns every interval, its
	// drift healed.
	deploy(ctx context.Context, repo *testenv.GitRepo, path, ns string, interval time.Duration) error
	// applied returns nil once the app of namespace ns is Ready at sha,
	// and an error saying where it is until then.
	applied(ctx context.Context, ns, sha string) error
	// notify tells the controller that repo's main moved, as a Git
	// server's push notification would.
	notify(ctx context.Context, repo *testenv.GitRepo) error
	// scrape reads the metrics of the controller's processes, their
	// series together.
	scrape() (metrics, error)
	// rss is the resident memory of the controller's processes together,
	// anonymous and file-backed, in bytes.
	rss() (anon, file float64, err error)
}

// startGitops starts the controller that -controller names and waits
// until it serves its metrics.
func startGitops(b *bench) gitops {
	var g gitops
	switch *controllerFlag {
	case "weir":
		g = startWeir(b)
	case "flux":
		g = startFlux(b)
	default:
		b.t.Fatalf("-controller=%s: want weir or flux", *controllerFlag)
	}
	b.await(time.Minute, fmt.Sprintf("the metrics of %s", *controllerFlag), func(context.Context) error { _, err := g.scrape(); return err })
	return g
}
