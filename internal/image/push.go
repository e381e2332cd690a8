package image

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// PushOptions say where an image built by Build goes.
type PushOptions struct {
	// Layout is the OCI image layout directory Build wrote, and Tag the
	// tag it holds.
	Layout, Tag string
	// Reference is the registry repository and tag to push to
	// (ghcr.io/weir-dev/weir:v0.1.0).
	Reference string
	// PlainHTTP talks to the registry over HTTP, for a local one.
	PlainHTTP bool
}

// Push copies the image index tagged opts.Tag in opts.Layout, with every
// platform's image, to opts.Reference, logging in with the credentials
// `docker login` stored, and returns the pushed index: its digest is the
// one Build reported.
func Push(ctx context.Context, opts PushOptions) (ocispec.Descriptor, error) {
	src, err := oci.NewWithContext(ctx, opts.Layout)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image layout %s: %w", opts.Layout, err)
	}
	dst, err := remote.NewRepository(opts.Reference)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("image reference %s: %w", opts.Reference, err)
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("registry credentials: %w", err)
	}
	dst.PlainHTTP = opts.PlainHTTP
	dst.Client = &auth.Client{Client: retry.DefaultClient, Cache: auth.NewCache(), Credential: credentials.Credential(store)}
	desc, err := oras.Copy(ctx, src, opts.Tag, dst, dst.Reference.Reference, oras.DefaultCopyOptions)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push %s to %s: %w", opts.Layout, opts.Reference, err)
	}
	return desc, nil
}
