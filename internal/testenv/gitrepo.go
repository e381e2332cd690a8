package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GitRepo is a real Git repository in a temporary directory, driven with
// the git CLI, for tests that commit and watch weir follow.
type GitRepo struct {
	t   testing.TB
	Dir string
}

// NewGitRepo creates a repository whose default branch is main.
func NewGitRepo(t testing.TB) *GitRepo {
	t.Helper()
	r := &GitRepo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// URL is the repository's file:// URL.
func (r *GitRepo) URL() string { return "file://" + r.Dir }

// Git runs git in the repository as a fixed test author and returns its
// trimmed output, failing the test on error.
func (r *GitRepo) Git(args ...string) string {
	r.t.Helper()
	return r.gitEnv(nil, args...)
}

// gitEnv is Git with env added to the environment.
func (r *GitRepo) gitEnv(env []string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = r.Dir
	cmd.Env = append(append(os.Environ(), env...),
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Author", "GIT_COMMITTER_EMAIL=ada@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+r.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Write creates or replaces a file, making its directories.
func (r *GitRepo) Write(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes a file from the work tree.
func (r *GitRepo) Remove(path string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.Dir, path)); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything and commits it, returning the commit's SHA-1.
func (r *GitRepo) Commit(message string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", message)
	return r.Head()
}

// CommitFiles writes files (an empty content removes the file) and commits
// them, returning the commit's SHA-1.
func (r *GitRepo) CommitFiles(message string, files map[string]string) string {
	r.t.Helper()
	for path, content := range files {
		if content == "" {
			r.Remove(path)
			continue
		}
		r.Write(path, content)
	}
	return r.Commit(message)
}

// Head is the SHA-1 of the current commit.
func (r *GitRepo) Head() string { return r.Git("rev-parse", "HEAD") }
