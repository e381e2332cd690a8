package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platforms are those weir's image is built for.
var Platforms = []ocispec.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// Options say what to build and how to label it.
type Options struct {
	// SourceDir is the root of the Go module to build.
	SourceDir string
	// Package is the main package to build, relative to SourceDir
	// ("./cmd/weir").
	Package string
	// Platforms to build for; Platforms above when empty.
	Platforms []ocispec.Platform
	// Repository and Tag name the image (ghcr.io/weir-dev/weir, v0.1.0).
	Repository, Tag string
	// Source describes the commit built: its revision, time and URL.
	Source Source
	// OutDir receives the OCI image layout directory Name and its tarball
	// Name+".tar".
	OutDir, Name string
}

// Source is the commit an image is built from.
type Source struct {
	// Revision is the commit hash, with "-dirty" when the working tree
	// had changes.
	Revision string
	// Time is the commit time (or SOURCE_DATE_EPOCH): every timestamp in
	// the image.
	Time time.Time
	// URL is where the source is published.
	URL string
}

// Result is what Build wrote.
type Result struct {
	// Index is the descriptor of the image index: its digest is the
	// image's.
	Index ocispec.Descriptor
	// Manifests are the images of the index, one per platform.
	Manifests []ocispec.Descriptor
	// Layout is the OCI image layout directory; Archive its tarball.
	Layout, Archive string
}

// Build compiles opts.Package for every platform and writes the image
// index to opts.OutDir.
func Build(ctx context.Context, opts Options) (Result, error) {
	if len(opts.Platforms) == 0 {
		opts.Platforms = Platforms
	}
	res := Result{Layout: filepath.Join(opts.OutDir, opts.Name), Archive: filepath.Join(opts.OutDir, opts.Name+".tar")}
	l, err := newLayout(res.Layout)
	if err != nil {
		return Result{}, fmt.Errorf("image layout %s: %w", res.Layout, err)
	}
	bins, err := os.MkdirTemp(opts.OutDir, ".build-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(bins)
	for _, p := range opts.Platforms {
		bin := binaryPath(bins, p)
		if err := compile(ctx, opts.SourceDir, opts.Package, opts.Source.Revision, p, bin); err != nil {
			return Result{}, err
		}
		m, err := l.putImage(bin, p, opts)
		if err != nil {
			return Result{}, fmt.Errorf("image for %s: %w", platformString(p), err)
		}
		res.Manifests = append(res.Manifests, m)
	}
	if res.Index, err = l.putJSON(ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   res.Manifests,
		Annotations: labels(opts),
	}); err != nil {
		return Result{}, err
	}
	if err := l.tag(res.Index, opts.Repository, opts.Tag); err != nil {
		return Result{}, err
	}
	return res, l.archive(res.Archive, opts.Source.Time)
}

// putImage stores the layer, config and manifest of the image of binary
// for platform, and returns the manifest's descriptor.
func (l *layout) putImage(binary string, platform ocispec.Platform, opts Options) (ocispec.Descriptor, error) {
	entries, err := rootEntries(binary)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layer, diffID, err := l.putStream(ocispec.MediaTypeImageLayerGzip, func(w io.Writer) (digest.Digest, error) {
		return writeLayer(w, entries, opts.Source.Time)
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	config, err := l.putJSON(ocispec.MediaTypeImageConfig, imageConfig(platform, diffID, opts))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	manifest, err := l.putJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      config,
		Layers:      []ocispec.Descriptor{layer},
		Annotations: labels(opts),
	})
	manifest.Platform = &platform
	return manifest, err
}

// imageConfig runs /weir as the non-root user, labelled with the version
// and source.
func imageConfig(platform ocispec.Platform, diffID digest.Digest, opts Options) ocispec.Image {
	created := opts.Source.Time.UTC()
	return ocispec.Image{
		Created:  &created,
		Platform: platform,
		Config: ocispec.ImageConfig{
			User:       fmt.Sprintf("%d:%d", uid, uid),
			Entrypoint: []string{"/weir"},
			Env:        []string{"HOME=" + home},
			WorkingDir: "/",
			Labels:     labels(opts),
		},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []ocispec.History{{Created: &created, CreatedBy: "weir dev image build", Comment: "weir " + opts.Tag}},
	}
}

// labels are the org.opencontainers.image annotations of every image.
func labels(opts Options) map[string]string {
	return map[string]string{
		ocispec.AnnotationTitle:    "weir",
		ocispec.AnnotationVersion:  opts.Tag,
		ocispec.AnnotationRevision: opts.Source.Revision,
		ocispec.AnnotationSource:   opts.Source.URL,
		ocispec.AnnotationCreated:  opts.Source.Time.UTC().Format(time.RFC3339),
	}
}
