package apply

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"weir.dev/weir/internal/testenv"
)

// BenchmarkApply50 re-applies an unchanged set of 50 objects (20
// ConfigMaps, 15 Services, 15 Deployments): the steady state of a sync.
func BenchmarkApply50(b *testing.B) {
	ns := testenv.Namespace(b)
	ctx := ctxFor(b)
	cfg := testenv.Config(b)
	cfg.QPS = -1 // measure weir and the API server, not the client's rate limiter
	m, err := NewManager(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	objs := parse(b, ns, set50())
	if err := m.Normalize(ctx, objs, ns); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Apply(ctx, objs, DryRuns{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		changes, err := m.Apply(ctx, objs, DryRuns{})
		if err != nil {
			b.Fatal(err)
		}
		if n := changes.Count(Unchanged); n != len(objs) {
			b.Fatalf("re-apply: %v", changes)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(objs)), "µs/object")
}

func set50() string {
	var docs []string
	for i := range 20 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-%d}\ndata: {key: value-%d}\n", i, i))
	}
	for i := range 15 {
		docs = append(docs, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: svc-%d}
spec:
  selector: {app: app-%d}
  ports:
  - port: 80
`, i, i), fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d}
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-%d}
  template:
    metadata:
      labels: {app: app-%d}
    spec:
      containers:
      - name: app
        image: registry.example/app:%d
`, i, i, i, i))
	}
	return strings.Join(docs, "---\n")
}

// BenchmarkValidate50 plans an unchanged set of 50 objects that an
// Application owns: a dry run of each, then a read of each that exists
// for the ownership check.
func BenchmarkValidate50(b *testing.B) {
	ns := testenv.Namespace(b)
	ctx := ctxFor(b)
	cfg := testenv.Config(b)
	cfg.QPS = -1
	m, err := NewManager(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	objs := parse(b, ns, set50())
	SetOwner(objs, Owner{Namespace: ns, Name: "bench", UID: "bench-uid"})
	if err := m.Normalize(ctx, objs, ns); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Apply(ctx, objs, DryRuns{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Validate(ctx, objs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(objs)), "µs/object")
}

// BenchmarkSync50 validates and applies a set of 50 objects (20
// ConfigMaps, 15 Services, 15 Deployments) of which the ConfigMaps
// changed, as a sync does, and reports the requests it sent per object:
// a dry run and a read of each, and an apply of each that changed.
func BenchmarkSync50(b *testing.B) {
	ns := testenv.Namespace(b)
	ctx := ctxFor(b)
	cfg := testenv.Config(b)
	cfg.QPS = -1
	var requests atomic.Int64
	countRequests(cfg, func(*http.Request) { requests.Add(1) })
	m, err := NewManager(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	gen := 0
	sync := func() ChangeSet {
		gen++
		objs := parse(b, ns, strings.ReplaceAll(set50(), "value-", fmt.Sprintf("value-%d-", gen)))
		SetOwner(objs, Owner{Namespace: ns, Name: "bench", UID: "bench-uid"})
		if err := m.Normalize(ctx, objs, ns); err != nil {
			b.Fatal(err)
		}
		dryRuns, err := m.Validate(ctx, objs)
		if err != nil {
			b.Fatal(err)
		}
		changes, err := m.Apply(ctx, objs, dryRuns)
		if err != nil {
			b.Fatal(err)
		}
		return changes
	}
	sync()
	requests.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		if changes := sync(); changes.Count(Configured) != 20 || changes.Count(Unchanged) != 30 {
			b.Fatalf("sync: %v", changes)
		}
	}
	b.ReportMetric(float64(requests.Load())/float64(b.N*50), "requests/object")
}
