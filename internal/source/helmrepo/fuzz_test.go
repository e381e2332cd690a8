package helmrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/getter"
)

// servedIndex is a chart repository that serves one index.yaml and, at
// every other URL, the same archive.
type servedIndex struct{ index, archive []byte }

func (s servedIndex) Get(url string, _ ...getter.Option) (*bytes.Buffer, error) {
	if strings.HasSuffix(url, "/index.yaml") {
		return bytes.NewBuffer(s.index), nil
	}
	if url == "" {
		return nil, errors.New("no URL")
	}
	return bytes.NewBuffer(s.archive), nil
}

// archive is what servedIndex serves for every chart; digest is its
// sha256, as an index lists it.
var (
	archive   = []byte("not really a chart archive")
	digest    = sha256.Sum256(archive)
	digestHex = hex.EncodeToString(digest[:])
)

const fuzzIndex = `apiVersion: v1
entries:
  hello:
  - name: hello
    version: 1.0.0
    apiVersion: v2
    digest: ` + "%s" + `
    urls: [charts/hello-1.0.0.tgz]
  - name: hello
    version: 0.3.0-rc.1
    apiVersion: v2
    urls: [https://elsewhere.example.com/hello-0.3.0-rc.1.tgz]
  - name: hello
    version: 0.2.0
    apiVersion: v2
    digest: 0000
    urls: [hello-0.2.0.tgz]
  - name: hello
    version: v0.1.0
    apiVersion: v2
    urls: []
`

// FuzzIndex reads arbitrary Helm repository indexes and resolves arbitrary
// versions and ranges in them: no panic, a resolved range gives the highest
// listed version within it, and a download checks the digest it is given.
func FuzzIndex(f *testing.F) {
	// Helm warns on every invalid entry it skips.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	index := []byte(strings.Replace(fuzzIndex, "%s", digestHex, 1))
	for _, version := range []string{"1.0.0", "0.2.0", "v0.1.0", ">=0.1.0", "<1.0.0", ">=0.3.0-0 <1", "^0.2", "~1", "*", "2.0.0", "", "not a range"} {
		f.Add(index, version)
	}
	f.Add([]byte(`{"apiVersion": "v1", "entries": {"hello": [null, {"name": "hello", "version": "1.0.0"}]}}`), "1.0.0")
	f.Add([]byte("apiVersion: v1\nentries:\n  hello:\n  - null\n  - {}\n"), ">0")
	f.Add([]byte("apiVersion: v1\nentries: {hello: [&a {name: hello, version: 1.0.0, urls: [*a]}]}\n"), "1.0.0")
	f.Add([]byte("entries: {}\n"), "1.0.0")
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, index []byte, version string) {
		r := &indexRepository{url: "https://charts.example.com/stable", getter: servedIndex{index: index, archive: archive}, tmpDir: tmp}
		got, err := r.resolve("hello", version)
		if err != nil {
			return
		}
		if isRange(version) {
			checkHighestWithin(t, r, version, got)
		}
		if _, err := r.download("hello", got); err == nil {
			cv, _ := findVersion(r.index.Entries["hello"], got)
			if cv.Digest != "" && cv.Digest != digestHex {
				t.Errorf("the archive of %s was accepted with digest %s in the index", got, cv.Digest)
			}
		}
	})
}

// checkHighestWithin fails t unless got is the highest version of the
// chart's entries within rangeSpec.
func checkHighestWithin(t *testing.T, r *indexRepository, rangeSpec, got string) {
	t.Helper()
	c, err := semver.NewConstraint(rangeSpec)
	if err != nil {
		t.Fatalf("range %q resolved to %s but does not parse: %v", rangeSpec, got, err)
	}
	v, err := semver.NewVersion(got)
	if err != nil || !c.Check(v) {
		t.Fatalf("range %q resolved to %s, which is not within it (%v)", rangeSpec, got, err)
	}
	for _, cv := range r.index.Entries["hello"] {
		if other, err := semver.NewVersion(cv.Version); err == nil && c.Check(other) && other.GreaterThan(v) {
			t.Errorf("range %q resolved to %s, but %s is higher and within it", rangeSpec, got, cv.Version)
		}
	}
}
