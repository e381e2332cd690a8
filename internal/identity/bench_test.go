package identity_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/delivery/analysis"
	"weir.dev/weir/internal/health"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/testenv"
)

// stages are the clients the controller builds for an identity.
type stages struct {
	applier  *apply.Manager
	health   *health.Checker
	analyzer *analysis.Analyzer
}

// BenchmarkImpersonatedClients measures what an identity's first sync
// costs in clients: a miss of the Cache that builds, as the controller
// does, an apply manager sharing weir's mapper, a health checker, and an
// uncached controller-runtime client with its analyzer.
func BenchmarkImpersonatedClients(b *testing.B) {
	cfg := testenv.Config(b)
	weir, err := apply.NewManager(cfg, apply.Options{})
	if err != nil {
		b.Fatal(err)
	}
	scheme := testenv.Scheme()
	build := func(cfg *rest.Config) (stages, error) {
		applier, err := weir.As(cfg)
		if err != nil {
			return stages{}, err
		}
		direct, err := client.New(cfg, client.Options{Scheme: scheme, Mapper: weir.RESTMapper()})
		if err != nil {
			return stages{}, err
		}
		return stages{applier, health.NewChecker(applier.Client(), applier.RESTMapper()), analysis.NewAnalyzer(direct)}, nil
	}
	clients, err := identity.NewCache(cfg, 1, build)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A cache of one, asked for two identities in turn, always builds.
		id := identity.Identity{Application: types.NamespacedName{Namespace: fmt.Sprint("team-", i%2), Name: "app"}, ServiceAccount: "tenant"}
		if _, err := clients.Get(id); err != nil {
			b.Fatal(err)
		}
	}
}
