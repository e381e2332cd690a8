package localcluster

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:generate sh ../../hack/embed-controlplane.sh

// embeddedSources is a copy of the control-plane build modules of
// hack/controlplane, each file with .txt appended (go:embed takes no
// go.mod), so that a weir binary builds its control plane outside a
// checkout.
//
//go:embed all:controlplane
var embeddedSources embed.FS

// embeddedRoot is the directory of embeddedSources that holds the copy.
const embeddedRoot = "controlplane"

// embeddedBuildOptions builds from the embedded copy of the build modules,
// written out once into cache (in a directory named for its content), and
// caches the binaries in cache.
func embeddedBuildOptions(cache string) (BuildOptions, error) {
	digest, err := sourcesDigest()
	if err != nil {
		return BuildOptions{}, err
	}
	src := filepath.Join(cache, "source-"+digest[:16])
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		if err := buildInto(context.Background(), src, writeSources); err != nil {
			return BuildOptions{}, err
		}
	}
	return BuildOptions{Source: src, Cache: cache}, nil
}

// writeSources writes the embedded build modules into dir, as they are in
// hack/controlplane.
func writeSources(dir string) error {
	return fs.WalkDir(embeddedSources, embeddedRoot, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := embeddedSources.ReadFile(name)
		if err != nil {
			return err
		}
		rel, _ := strings.CutPrefix(name, embeddedRoot+"/")
		dest := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(rel, ".txt")))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dest, data, 0o644)
	})
}

// sourcesDigest is the SHA-256 of the embedded files' names and contents.
func sourcesDigest() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(embeddedSources, embeddedRoot, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := embeddedSources.ReadFile(name)
		h.Write([]byte(name + "\x00"))
		h.Write(data)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
