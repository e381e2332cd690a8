package source

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

func TestExportTree(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	repo.Write("deploy/base/app.yaml", "kind: Deployment")
	repo.Write("hooks/check.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(repo.Dir, "hooks/check.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"app.yaml":       "deploy/base/app.yaml",
		"escape":         "../../../../etc/passwd",
		"absolute":       "/etc/passwd",
		"deploy/dirlink": "base",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(repo.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	repo.Git("add", "-A")
	// A submodule: a gitlink to a commit of another repository.
	repo.Git("update-index", "--add", "--cacheinfo", "160000,"+fullSHA1String('a')+",vendor/lib")
	repo.Git("commit", "-q", "-m", "tree with links")

	a, err := NewFetcher(t.TempDir(), fileSources).Fetch(context.Background(), repo.URL(), v1alpha1.GitRef{}, Credentials{})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path string
		mode fs.FileMode // type and permission bits
	}{
		{"deploy", fs.ModeDir | dirMode},
		{"deploy/base", fs.ModeDir | dirMode},
		{"deploy/base/app.yaml", fileMode},
		{"hooks/check.sh", executableMode},
		{"app.yaml", fs.ModeSymlink},
		{"escape", fs.ModeSymlink},
		{"absolute", fs.ModeSymlink},
		{"deploy/dirlink", fs.ModeSymlink},
	}
	for _, tt := range tests {
		fi, err := os.Lstat(filepath.Join(a.Dir, tt.path))
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		got := fi.Mode()
		if got.Type() == fs.ModeSymlink {
			got = fs.ModeSymlink // link permissions are meaningless
		}
		if got != tt.mode {
			t.Errorf("%s has mode %v, want %v", tt.path, got, tt.mode)
		}
	}
	for name, want := range links {
		if got, err := os.Readlink(filepath.Join(a.Dir, name)); err != nil || got != want {
			t.Errorf("%s links to %q (%v), want %q", name, got, err, want)
		}
	}
	if got := readFile(t, a, "app.yaml"); got != "kind: Deployment" {
		t.Errorf("app.yaml through its link = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(a.Dir, "vendor/lib")); !os.IsNotExist(err) {
		t.Errorf("submodule exported: %v", err)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"app.yaml": true, ".hidden": true, "..dots": true, "with space": true,
		"": false, ".": false, "..": false, "a/b": false, `a\b`: false, "nul\x00": false,
	}
	for name, want := range tests {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}

// fullSHA1String is a hash of 40 copies of c.
func fullSHA1String(c byte) string {
	b := make([]byte, 40)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
