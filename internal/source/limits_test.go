package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// newBombRepo commits a file of size zero bytes, which Git compresses to a
// few hundred KiB, beside a small manifest.
func newBombRepo(t testing.TB, size int64) *testenv.GitRepo {
	t.Helper()
	repo := testenv.NewGitRepo(t)
	repo.Write("app.yaml", "kind: ConfigMap")
	if err := os.Mkdir(filepath.Join(repo.Dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(repo.Dir, "data/bomb.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: the test writes no data, git reads zeros.
	if err := errors.Join(f.Truncate(size), f.Close()); err != nil {
		t.Fatal(err)
	}
	repo.Commit("a compressible bomb")
	return repo
}

func TestFetchRefusesCheckoutOverItsLimits(t *testing.T) {
	t.Parallel()
	bomb := newBombRepo(t, 64<<20)
	twoHalves := testenv.NewGitRepo(t)
	commitFiles(twoHalves, "two files", map[string]string{"a.txt": randomText(600 << 10), "b.txt": randomText(600 << 10)[1:]})
	many := testenv.NewGitRepo(t)
	commitFiles(many, "many files", manifests(30, 1))
	flat := testenv.NewGitRepo(t)
	for i := range 30 {
		flat.Write(fmt.Sprintf("a-rather-long-file-name-%02d.yaml", i), "kind: ConfigMap")
	}
	flat.Commit("a long listing")
	tests := []struct {
		name   string
		url    string
		limits Limits
		want   string
	}{
		{"a file over the byte limit, refused as it is fetched", bomb.URL(), Limits{MaxBytes: 1 << 20, MaxFiles: 100},
			"blob " + bomb.Git("rev-parse", "HEAD:data/bomb.bin") + " of 64MiB is over the limit of 1MiB for a checkout"},
		{"files over the byte limit together", twoHalves.URL(), Limits{MaxBytes: 1 << 20, MaxFiles: 100},
			"b.txt (614399 bytes) brings the checkout over its limit of 1MiB"},
		{"more files than allowed", many.URL(), Limits{MaxBytes: 1 << 20, MaxFiles: 20},
			"more than 20 files, directories and links (at apps/app2/deploy27.yaml)"},
		{"a listing too long for the file limit", flat.URL(), Limits{MaxBytes: 1 << 20, MaxFiles: 2},
			"the listing of the top directory (1770 bytes) holds too many entries for the limit of 2 files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFetcher(t.TempDir(), Options{AllowFileSources: true, Checkout: tt.limits})
			_, err := f.Fetch(context.Background(), tt.url, v1alpha1.GitRef{}, Credentials{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if !errors.Is(err, ErrCheckoutTooLarge) {
				t.Errorf("error %v is not ErrCheckoutTooLarge", err)
			}
			if !strings.HasPrefix(err.Error(), "fetch branch main from "+tt.url+": ") {
				t.Errorf("error %q does not name the ref and URL", err)
			}
			entries, err := os.ReadDir(f.repo(tt.url).dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != storeDirName {
					t.Errorf("the refused checkout left %s behind", e.Name())
				}
			}
		})
	}
}

func TestFetchWithinLimits(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	commit := commitFiles(repo, "just fits", map[string]string{"a.yaml": "12345", "b/c.yaml": "67890"})
	// Three entries (a.yaml, b, b/c.yaml) of ten bytes.
	f := NewFetcher(t.TempDir(), Options{AllowFileSources: true, Checkout: Limits{MaxBytes: 10, MaxFiles: 3}})
	a, err := f.Fetch(context.Background(), repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	checkArtifact(t, a, "main", commit)
}

// BenchmarkExportBomb exports a commit holding 256 MiB of zeros that Git
// stores in a few hundred KiB, with limits that let it through: B/op is
// what a checkout of that size costs in memory.
func BenchmarkExportBomb(b *testing.B) {
	repo := newBombRepo(b, 256<<20)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := NewFetcher(filepath.Join(b.TempDir(), fmt.Sprint(i)), Options{
			AllowFileSources: true,
			Checkout:         Limits{MaxBytes: 1 << 30, MaxFiles: 100},
		})
		if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchBombRefused fetches the same commit at the default limits:
// B/op is what refusing it costs.
func BenchmarkFetchBombRefused(b *testing.B) {
	repo := newBombRepo(b, 256<<20)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := NewFetcher(filepath.Join(b.TempDir(), fmt.Sprint(i)), fileSources)
		if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); !errors.Is(err, ErrCheckoutTooLarge) {
			b.Fatalf("error = %v, want ErrCheckoutTooLarge", err)
		}
	}
}
