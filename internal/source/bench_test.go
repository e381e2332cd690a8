package source

import (
	"context"
	"fmt"
	"testing"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// manifests is a tree of n small YAML files in a few directories, the size
// of a typical application's path.
func manifests(n int, replicas int) map[string]string {
	files := make(map[string]string, n)
	for i := range n {
		files[fmt.Sprintf("apps/app%d/deploy%d.yaml", i%5, i)] = fmt.Sprintf(
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\nspec:\n  replicas: %d\n", i, replicas)
	}
	return files
}

// BenchmarkFetchUnchanged is a poll of a branch that did not move: a ref
// listing and a cache hit.
func BenchmarkFetchUnchanged(b *testing.B) {
	repo := testenv.NewGitRepo(b)
	commitFiles(repo, "initial", manifests(50, 1))
	f := NewFetcher(b.TempDir(), fileSources)
	ctx := context.Background()
	if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchNewCommit is a poll that finds a new commit changing one
// file: a listing, a depth-1 fetch, an export of the tree and pruning.
func BenchmarkFetchNewCommit(b *testing.B) {
	repo := testenv.NewGitRepo(b)
	files := manifests(50, 1)
	commitFiles(repo, "initial", files)
	f := NewFetcher(b.TempDir(), fileSources)
	f.grace = 0
	ctx := context.Background()
	if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		commitFiles(repo, fmt.Sprint("scale to ", i), map[string]string{"apps/app0/deploy0.yaml": fmt.Sprint("replicas: ", i)})
		b.StartTimer()
		if _, err := f.Fetch(ctx, repo.URL(), v1alpha1.GitRef{}, Credentials{}); err != nil {
			b.Fatal(err)
		}
	}
}
