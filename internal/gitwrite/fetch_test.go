package gitwrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"weir.dev/weir/internal/source"
)

func TestFetchTakesOnlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	var notes []string // 30 commits after the bad one
	for i := range 30 {
		o.Write("notes.txt", strings.Repeat("note\n", i+1))
		notes = append(notes, o.Commit("note"))
	}
	tests := []struct {
		name        string
		serveByHash bool
		good, bad   string
		want        int // commits in the clone; -1 for an error
	}{
		{"by hash", true, o.good, o.bad, 3},
		{"recent history", false, notes[20], notes[25], historyDepth},
		{"whole history", false, o.good, o.bad, 33},
		{"unknown commit by hash", true, strings.Repeat("ab", 20), o.bad, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.serveByHash {
				o.Git("config", "uploadpack.allowReachableSHA1InWant", "true")
			} else {
				o.Git("config", "uploadpack.allowReachableSHA1InWant", "false")
			}
			dir := t.TempDir()
			remote, err := source.NewRemote(o.URL(), source.Credentials{}, dir, fileSources)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newClone(dir, remote)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			_, _, _, err = c.fetch(context.Background(), "main", plumbing.NewHash(tt.good), plumbing.NewHash(tt.bad))
			if tt.want < 0 {
				if err == nil || !strings.Contains(err.Error(), "not found in the history of branch main") {
					t.Fatalf("error = %v, want the commit not found", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := countCommits(t, c); got != tt.want {
				t.Errorf("clone holds %d commits, want %d", got, tt.want)
			}
		})
	}
}

// countCommits is how many commits c's store holds.
func countCommits(t *testing.T, c *clone) int {
	t.Helper()
	iter, err := c.storage.IterEncodedObjects(plumbing.CommitObject)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = iter.ForEach(func(plumbing.EncodedObject) error { n++; return nil })
	if err != nil && err != storer.ErrStop {
		t.Fatal(err)
	}
	return n
}

func TestIsRefusedWant(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"the server says so", errors.New("unexpected client error: want abab not our ref"), true},
		{"upload-pack exited while the wants were written", fmt.Errorf("sending upload-req message: %w", &os.PathError{Op: "write", Path: "|1", Err: syscall.EPIPE}), true},
		{"the same, as text", errors.New(`encoding want "c406": write |1: broken pipe`), true},
		{"another error", errors.New("authentication required"), false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isRefusedWant(tt.err); got != tt.want {
				t.Errorf("isRefusedWant(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
