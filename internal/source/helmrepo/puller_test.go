package helmrepo

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"weir.dev/weir/internal/testenv"
)

const chartDir = "testdata/hello"

// repoUnderTest is a chart repository of either kind with the chart
// "hello" published at some versions.
type repoUnderTest struct {
	url       string
	plainHTTP bool
}

func TestPullHTTP(t *testing.T) {
	r := testenv.NewChartRepo(t, "reader", "s3cret", false)
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-rc.1", "1.0.0"} {
		r.Add(t, chartDir, v)
	}
	testPull(t, repoUnderTest{url: r.URL()})
}

func TestPullOCI(t *testing.T) {
	r := testenv.NewOCIRegistry(t, "reader", "s3cret")
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-rc.1", "1.0.0"} {
		r.Push(t, chartDir, v)
	}
	testPull(t, repoUnderTest{url: r.URL(), plainHTTP: true})
}

// testPull pulls from a repository that holds hello 0.1.0, 0.2.0,
// 0.3.0-rc.1 and 1.0.0, readable with reader:s3cret.
func testPull(t *testing.T, repo repoUnderTest) {
	good := Credentials{Username: "reader", Password: "s3cret"}
	tests := []struct {
		name        string
		chart       string
		version     string
		creds       Credentials
		wantVersion string
		wantErr     string
	}{
		{name: "exact version", chart: "hello", version: "0.2.0", creds: good, wantVersion: "0.2.0"},
		{name: "caret range", chart: "hello", version: "^0.1.0", creds: good, wantVersion: "0.1.0"},
		{name: "range, prereleases left out", chart: "hello", version: ">=0.2.0 <1.0.0", creds: good, wantVersion: "0.2.0"},
		{name: "wildcard", chart: "hello", version: "*", creds: good, wantVersion: "1.0.0"},
		{name: "no version in range", chart: "hello", version: "^2.0.0", creds: good, wantErr: "chart hello@^2.0.0 from " + repo.url + ": "},
		{name: "no such version", chart: "hello", version: "0.9.0", creds: good, wantErr: "chart hello@0.9.0 from " + repo.url + ": "},
		{name: "no such chart", chart: "goodbye", version: "1.0.0", creds: good, wantErr: "chart goodbye@1.0.0 from " + repo.url + ": "},
		{name: "wrong password", chart: "hello", version: "1.0.0", creds: Credentials{Username: "reader", Password: "wrong-password"}, wantErr: "401"},
		{name: "anonymous", chart: "hello", version: "1.0.0", wantErr: "chart hello@1.0.0 from " + repo.url + ": "},
	}
	p := NewPuller(t.TempDir(), Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := Ref{Repository: repo.url, Name: tt.chart, Version: tt.version, PlainHTTP: repo.plainHTTP}
			c, err := p.Pull(t.Context(), ref, tt.creds)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "wrong-password") {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != tt.wantVersion || c.Name != tt.chart {
				t.Errorf("pulled %s %s, want %s %s", c.Name, c.Version, tt.chart, tt.wantVersion)
			}
			ch, err := loader.LoadFile(c.Path)
			if err != nil {
				t.Fatalf("load pulled chart: %v", err)
			}
			if ch.Metadata.Version != tt.wantVersion {
				t.Errorf("archive holds version %s, want %s", ch.Metadata.Version, tt.wantVersion)
			}
		})
	}
}

// TestPullCached checks that a version is downloaded once, while each pull
// still asks the repository which version to use.
func TestPullCached(t *testing.T) {
	r := testenv.NewChartRepo(t, "", "", false)
	r.Add(t, chartDir, "0.1.0")
	p := NewPuller(t.TempDir(), Options{})
	pull := func(version, want string) {
		t.Helper()
		c, err := p.Pull(t.Context(), Ref{Repository: r.URL(), Name: "hello", Version: version}, Credentials{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != want {
			t.Errorf("pull %s: got %s, want %s", version, c.Version, want)
		}
	}
	pull("0.1.0", "0.1.0")
	pull("0.1.0", "0.1.0")
	pull("~0.1", "0.1.0")
	if n := r.Downloads(); n != 1 {
		t.Errorf("%d downloads of 0.1.0, want 1", n)
	}
	r.Add(t, chartDir, "0.1.1")
	pull("~0.1", "0.1.1")
	pull("~0.1", "0.1.1")
	if n := r.Downloads(); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}
}

func TestPullDigestMismatch(t *testing.T) {
	archive := testenv.PackageChart(t, chartDir, "", t.TempDir())
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	index := `apiVersion: v1
entries:
  hello:
    - apiVersion: v2
      name: hello
      version: 0.1.0
      urls: [hello-0.1.0.tgz]
      digest: "0000000000000000000000000000000000000000000000000000000000000000"
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch filepath.Base(r.URL.Path) {
		case "index.yaml":
			_, _ = w.Write([]byte(index))
		case "hello-0.1.0.tgz":
			_, _ = w.Write(data)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	_, err = NewPuller(t.TempDir(), Options{}).Pull(t.Context(), Ref{Repository: srv.URL, Name: "hello", Version: "0.1.0"}, Credentials{})
	if err == nil || !strings.Contains(err.Error(), "the index says sha256:0000") {
		t.Fatalf("got %v, want a digest mismatch", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		ref     Ref
		wantErr string
	}{
		{ref: Ref{Repository: "https://charts.example.com", Name: "web", Version: "1.2.3"}},
		{ref: Ref{Repository: "oci://ghcr.io/example/charts", Name: "web", Version: "~1.2"}},
		{ref: Ref{Repository: "ftp://charts.example.com", Name: "web", Version: "1.2.3"}, wantErr: "must be an https://, http:// or oci:// URL"},
		{ref: Ref{Repository: "https://user:pw@charts.example.com", Name: "web", Version: "1.2.3"}, wantErr: "holds credentials"},
		{ref: Ref{Repository: "https://charts.example.com", Name: "../web", Version: "1.2.3"}, wantErr: `invalid chart name "../web"`},
		{ref: Ref{Repository: "https://charts.example.com", Name: "web:1", Version: "1.2.3"}, wantErr: "invalid chart name"},
		{ref: Ref{Repository: "https://charts.example.com", Name: "web"}, wantErr: "no version given"},
		{ref: Ref{Repository: "https://charts.example.com", Name: "web", Version: "latest"}, wantErr: `version "latest" is neither a version nor a range`},
		{ref: Ref{Repository: "https://charts.example.com", Name: "web", Version: ">=1.0 <"}, wantErr: `version ">=1.0 <" is neither`},
	}
	for _, tt := range tests {
		err := validate(tt.ref)
		if tt.wantErr == "" && err != nil {
			t.Errorf("%+v: %v", tt.ref, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%+v: got %v, want %q", tt.ref, err, tt.wantErr)
		}
	}
}

func TestIsRange(t *testing.T) {
	for version, want := range map[string]bool{
		"1.2.3": false, "1.2.3-rc.1": false, "1.2.3+build.5": false,
		"^1.2.3": true, "~1.2": true, "1.2": true, "1.x": true, "*": true, "v1.2.3": true,
		">=1.0.0 <2.0.0": true, "1.2.3 || 2.0.0": true, "1.2.3 - 1.4.0": true,
	} {
		if got := isRange(version); got != want {
			t.Errorf("isRange(%q) = %v, want %v", version, got, want)
		}
	}
}
