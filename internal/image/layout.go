package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerdNameAnnotation names an image in an OCI layout for containerd
// (`ctr images import`) and Docker (`docker load`).
const containerdNameAnnotation = "io.containerd.image.name"

// layout is an OCI image layout directory being written.
type layout struct {
	dir string
}

// newLayout starts an empty OCI image layout in dir, removing what dir
// held so that no blob of an earlier build is left in it.
func newLayout(dir string) (*layout, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, ocispec.ImageBlobsDir, "sha256"), 0o755); err != nil {
		return nil, err
	}
	l := &layout{dir: dir}
	return l, l.writeJSON(ocispec.ImageLayoutFile, ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
}

// putJSON stores v as a blob of mediaType.
func (l *layout) putJSON(mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	return d, os.WriteFile(l.blobPath(d.Digest), data, 0o644)
}

// putStream stores what write writes as a blob of mediaType, and returns
// its descriptor and what write returned.
func (l *layout) putStream(mediaType string, write func(io.Writer) (digest.Digest, error)) (ocispec.Descriptor, digest.Digest, error) {
	f, err := os.CreateTemp(filepath.Join(l.dir, ocispec.ImageBlobsDir), ".blob-*")
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return ocispec.Descriptor{}, "", err
	}
	h := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(f, h)}
	result, err := write(counter)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigest(digest.SHA256, h), Size: counter.n}
	return d, result, os.Rename(f.Name(), l.blobPath(d.Digest))
}

// tag makes index the layout's one image, under ref (repository:tag).
func (l *layout) tag(index ocispec.Descriptor, repository, tag string) error {
	index.Annotations = map[string]string{
		ocispec.AnnotationRefName: tag,
		containerdNameAnnotation:  repository + ":" + tag,
	}
	return l.writeJSON(ocispec.ImageIndexFile, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{index},
	})
}

func (l *layout) writeJSON(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.dir, name), data, 0o644)
}

func (l *layout) blobPath(d digest.Digest) string {
	return filepath.Join(l.dir, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

// archive writes the layout as a tar file at path, entries in lexical
// order and every timestamp mtime, as `ctr images import`, `docker load`
// and oras read it.
func (l *layout) archive(path string, mtime time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == l.dir {
			return err
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		return archiveEntry(tw, p, filepath.ToSlash(rel), d, mtime)
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func archiveEntry(tw *tar.Writer, path, name string, d fs.DirEntry, mtime time.Time) error {
	if d.IsDir() {
		return writeEntry(tw, entry{name: name + "/", mode: 0o755}, mtime)
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	return writeEntry(tw, entry{name: name, mode: 0o644, size: info.Size(), body: func() (io.ReadCloser, error) {
		return os.Open(path)
	}}, mtime)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
