package image

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// The user weir runs as, distroless's "nonroot".
const (
	uid  = 65532
	home = "/home/nonroot"
)

// entry is one file or directory of the image's file system.
type entry struct {
	name string
	mode int64
	uid  int
	// body is the content of a regular file; a name ending in "/" is a
	// directory.
	body func() (io.ReadCloser, error)
	size int64
}

// rootEntries are the files of the image, in tar order: /etc/passwd and
// /etc/group name the non-root user, /tmp is where weir's default cache
// lives when no volume is mounted, and /weir is the binary.
func rootEntries(binary string) ([]entry, error) {
	info, err := os.Stat(binary)
	if err != nil {
		return nil, err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", uid, uid, home)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid)
	return []entry{
		{name: "etc/", mode: 0o755},
		text("etc/group", group),
		text("etc/passwd", passwd),
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: uid},
		{name: "tmp/", mode: 0o1777},
		{name: "weir", mode: 0o755, size: info.Size(), body: func() (io.ReadCloser, error) { return os.Open(binary) }},
	}, nil
}

func text(name, s string) entry {
	return entry{name: name, mode: 0o644, size: int64(len(s)), body: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(s)), nil
	}}
}

// writeLayer writes entries as a gzipped tar to w, every timestamp mtime,
// and returns the digest of the uncompressed tar (the layer's diffID).
func writeLayer(w io.Writer, entries []entry, mtime time.Time) (digest.Digest, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	diffID := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diffID))
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return "", fmt.Errorf("layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, diffID), nil
}

func writeEntry(tw *tar.Writer, e entry, mtime time.Time) error {
	h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime, Format: tar.FormatPAX}
	if e.body == nil {
		h.Typeflag = tar.TypeDir
		return tw.WriteHeader(h)
	}
	h.Typeflag, h.Size = tar.TypeReg, e.size
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	r, err := e.body()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(tw, r)
	return err
}
