package image

import (
	"os"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"
)

// BenchmarkBuildWeirImage builds weir's own image, both platforms, as
// `make image` does: ns/op is the build time (with Go's build cache as
// it is), and it reports the tarball's size and each platform's
// compressed layer.
func BenchmarkBuildWeirImage(b *testing.B) {
	opts := testOptions(b.TempDir())
	opts.Package = "./cmd/weir"
	var res Result
	for b.Loop() {
		var err error
		if res, err = Build(b.Context(), opts); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(res.Archive)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size())/(1<<20), "archive-MiB")
	store, err := oci.NewFromTar(b.Context(), res.Archive)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range res.Manifests {
		manifest := fetchJSON[ocispec.Manifest](b, store, m)
		b.ReportMetric(float64(manifest.Layers[0].Size)/(1<<20), m.Platform.Architecture+"-layer-MiB")
	}
}
