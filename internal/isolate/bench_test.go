package isolate

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// renderFunc is one way to render: in-process or in a worker.
type renderFunc func(ctx context.Context, root, path string, opts render.Options) ([]*unstructured.Unstructured, error)

// ways are the ways to render that the benchmarks compare.
var ways = []struct {
	name   string
	render renderFunc
}{
	{"in-process", render.Render},
	{"isolated", func(ctx context.Context, root, path string, opts render.Options) ([]*unstructured.Unstructured, error) {
		return (&Renderer{}).Render(ctx, root, path, opts, decrypt.New(nil))
	}},
}

// BenchmarkRender measures what a worker costs per render, against the
// in-process render of the same kustomization (render's testdata, 6
// objects) and chart (200 objects, as BenchmarkRenderHelm200); and what
// Renderer costs for plain manifests (3 objects), which it renders
// without a worker.
func BenchmarkRender(b *testing.B) {
	for _, input := range []struct {
		name, path string
		opts       render.Options
	}{
		{name: "plain", path: "plain-dir"},
		{name: "kustomize", path: "kustomize/overlays/prod"},
		{name: "helm200", path: "helm/bench", opts: render.Options{Type: render.TypeHelm, Helm: &render.Helm{ReleaseName: "bench", Namespace: "shop"}}},
	} {
		for _, way := range ways {
			b.Run(input.name+"/"+way.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := way.render(b.Context(), "../render/testdata", input.path, input.opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkHelmRepeat renders testdata/helm-repeat, a template that writes
// 100 MB, with a 1 MiB output bound, and reports the benchmark process's
// peak RSS. The peak only grows: run one way per process, as
// -bench 'HelmRepeat/isolated' -benchtime 1x.
func BenchmarkHelmRepeat(b *testing.B) {
	opts := render.Options{Type: render.TypeHelm, MaxOutputBytes: 1 << 20}
	for _, way := range ways {
		b.Run(way.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := way.render(b.Context(), "testdata", "helm-repeat", opts); err == nil {
					b.Fatal("rendered 100 MB with a 1 MiB bound")
				}
			}
			b.ReportMetric(float64(peakRSS()>>20), "peak-RSS-MiB")
		})
	}
}
