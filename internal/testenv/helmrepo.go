package testenv

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// PackageChart packages the chart directory dir into outDir with Helm's
// packager, as `helm package --version` does, and returns the archive's
// path. An empty version keeps the chart's own.
func PackageChart(t testing.TB, dir, version, outDir string) string {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatalf("load chart %s: %v", dir, err)
	}
	if version != "" {
		ch.Metadata.Version = version
	}
	archive, err := chartutil.Save(ch, outDir)
	if err != nil {
		t.Fatalf("package chart %s: %v", dir, err)
	}
	return archive
}

// ChartRepo is a Helm chart repository served over HTTP(S) the way chart
// repositories are: an index.yaml beside the packaged charts, as `helm repo
// index` writes it.
type ChartRepo struct {
	srv *httptest.Server
	dir string
	// downloads counts the archives served.
	downloads atomic.Int64
}

// NewChartRepo serves an empty chart repository until the test ends. With
// a user, every request needs basic auth with user and password. With
// useTLS it serves HTTPS with httptest's certificate (see
// TrustTestServerCertificate).
func NewChartRepo(t testing.TB, user, password string, useTLS bool) *ChartRepo {
	t.Helper()
	r := &ChartRepo{dir: t.TempDir()}
	var h http.Handler = http.FileServer(http.Dir(r.dir))
	if user != "" {
		h = basicAuth(h, user, password)
	}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, ".tgz") {
			r.downloads.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	if useTLS {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	r.writeIndex(t)
	return r
}

// URL is the repository's URL, as a chart reference names it.
func (r *ChartRepo) URL() string { return r.srv.URL + "/charts" }

// Downloads counts the requests for chart archives the repository has
// served.
func (r *ChartRepo) Downloads() int64 { return r.downloads.Load() }

// Add publishes the chart directory dir at version ("" for the chart's
// own) and rewrites the index.
func (r *ChartRepo) Add(t testing.TB, dir, version string) {
	t.Helper()
	PackageChart(t, dir, version, filepath.Join(r.dir, "charts"))
	r.writeIndex(t)
}

// writeIndex indexes the packaged charts, with their digests.
func (r *ChartRepo) writeIndex(t testing.TB) {
	t.Helper()
	charts := filepath.Join(r.dir, "charts")
	if err := os.MkdirAll(charts, 0o755); err != nil {
		t.Fatal(err)
	}
	index, err := repo.IndexDirectory(charts, r.URL())
	if err != nil {
		t.Fatalf("index charts: %v", err)
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(charts, "index.yaml"), 0o644); err != nil {
		t.Fatalf("write index: %v", err)
	}
}
