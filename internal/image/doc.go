// Package image builds weir's container image without a container engine:
// it cross-compiles weir as a static binary for each platform, lays it on
// an empty base in one layer, and writes the images as one OCI index, in
// an OCI image layout directory and a tarball of it, or pushes them to a
// registry.
//
// The build is reproducible: every timestamp is the commit time, the
// binary is built with -trimpath and without VCS stamping or build ID, and
// tar entries and JSON are written in a fixed order, so the same source
// and Go toolchain give the same index digest.
//
// weir's TLS roots come from the binary itself
// (golang.org/x/crypto/x509roots/fallback, pinned in go.sum), which Go
// uses when the image has none: the image then holds nothing that depends
// on the machine that built it.
package image
