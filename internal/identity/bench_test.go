package identity_test

import (
	"fmt"
	"runtime"
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
	clients := newStagesCache(b, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A cache of one, asked for two identities in turn, always builds.
		if _, err := clients.Get(team(i % 2)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImpersonatedClientsKept measures the memory a full Cache holds:
// the heap that the clients of DefaultCacheSize identities keep, per
// identity.
func BenchmarkImpersonatedClientsKept(b *testing.B) {
	for b.Loop() {
		clients := newStagesCache(b, identity.DefaultCacheSize)
		before := heapInUse()
		for i := range identity.DefaultCacheSize {
			if _, err := clients.Get(team(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(heapInUse()-before)/identity.DefaultCacheSize, "B/identity")
		runtime.KeepAlive(clients)
	}
}

// heapInUse is the live heap, after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// team is an Application of namespace team-<i> that runs as its tenant.
func team(i int) identity.Identity {
	return identity.Identity{Application: types.NamespacedName{Namespace: fmt.Sprint("team-", i), Name: "app"}, ServiceAccount: "tenant"}
}

// newStagesCache returns a Cache of size that builds stages for the
// package's cluster.
func newStagesCache(b *testing.B, size int) *identity.Cache[stages] {
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
	clients, err := identity.NewCache(cfg, size, build)
	if err != nil {
		b.Fatal(err)
	}
	return clients
}
