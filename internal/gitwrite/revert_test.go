package gitwrite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRevert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// after commits on top of the bad commit, if anything; it returns
		// the files the revert must leave as they are in the head.
		after func(t *testing.T, o *origin) []string
		// serveByHash lets the server send commits by hash, so that only
		// the three commits are fetched.
		serveByHash bool
	}{
		{name: "branch at the bad commit"},
		{name: "branch at the bad commit, commits fetched by hash", serveByHash: true},
		{name: "an unrelated commit after the bad one", after: func(t *testing.T, o *origin) []string {
			o.Write(servicePath, fixture(t, "service.yaml"))
			o.Commit("web Service")
			return []string{servicePath}
		}},
		{name: "an unrelated commit after the bad one, fetched by hash", serveByHash: true, after: func(t *testing.T, o *origin) []string {
			o.Write(servicePath, fixture(t, "service.yaml"))
			o.Commit("web Service")
			return []string{servicePath}
		}},
		{name: "another line of a reverted file changed after the bad commit", after: func(t *testing.T, o *origin) []string {
			o.edit(t, deploymentPath, moreReplicas...)
			o.Commit("web: 5 replicas")
			return nil
		}},
		{name: "the bad commit deep in history", after: func(t *testing.T, o *origin) []string {
			for i := range historyDepth + 5 {
				o.Write("notes.txt", strings.Repeat("note\n", i+1))
				o.Commit("note")
			}
			return []string{"notes.txt"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			if tt.serveByHash {
				o.Git("config", "uploadpack.allowReachableSHA1InWant", "true")
			}
			var kept []string
			if tt.after != nil {
				kept = tt.after(t, o)
			}
			head := o.Head()
			h, err := revert(t, NewReverter(t.TempDir(), fileSources), o.request(o.URL()))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				deploymentPath: o.show(t, o.good+":"+deploymentPath),
				configMapPath:  o.show(t, o.good+":"+configMapPath),
			}
			if tt.name == "another line of a reverted file changed after the bad commit" {
				want[deploymentPath] = strings.ReplaceAll(want[deploymentPath], moreReplicas[0], moreReplicas[1])
			}
			for _, path := range kept {
				want[path] = o.show(t, head+":"+path)
			}
			checkRevertCommit(t, o, h, head, want)
		})
	}
}

func TestRevertTreeEqualsGood(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	h, err := revert(t, NewReverter(t.TempDir(), fileSources), o.request(o.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.Git("rev-parse", h+"^{tree}"), o.Git("rev-parse", o.good+"^{tree}"); got != want {
		t.Errorf("revert commit's tree = %s, want the good commit's %s", got, want)
	}
	if o.Git("status", "--porcelain") != "" {
		t.Errorf("the origin's work tree differs from the pushed commit")
	}
}

func TestRevertConflict(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	o.edit(t, deploymentPath, otherImage...)
	o.Write(configMapPath, strings.ReplaceAll(fixture(t, "configmap.yaml"), "false", "maybe"))
	head := o.Commit("web 1.5.1 and a cart maybe")

	_, err := revert(t, NewReverter(t.TempDir(), fileSources), o.request(o.URL()))
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("error = %v, want a ConflictError", err)
	}
	if want := []string{configMapPath, deploymentPath}; !slices.Equal(conflict.Paths, want) {
		t.Errorf("conflicting paths = %v, want %v", conflict.Paths, want)
	}
	wantMsg := "revert " + o.good[:12] + ".." + o.bad[:12] + " on branch main of " + o.URL() +
		": conflict in " + configMapPath + ", " + deploymentPath
	if !strings.HasPrefix(err.Error(), wantMsg) {
		t.Errorf("error = %q, want it to start with %q", err, wantMsg)
	}
	checkHead(t, o, head)
}

func TestRevertAlreadyReverted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		byHand   func(o *origin)
		revertsB bool // Revert still has B's change to undo
	}{
		{name: "the whole range", byHand: func(o *origin) { o.Git("revert", "--no-edit", o.good+".."+o.bad) }},
		{name: "with a new commit", byHand: func(o *origin) {
			o.Git("checkout", "-q", o.good, "--", "deploy")
			o.Commit("roll back by hand")
		}},
		{name: "only the bad commit", byHand: func(o *origin) { o.Git("revert", "--no-edit", o.bad) }, revertsB: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			tt.byHand(o)
			head := o.Head()
			h, err := revert(t, NewReverter(t.TempDir(), fileSources), o.request(o.URL()))
			if tt.revertsB {
				if err != nil {
					t.Fatal(err)
				}
				checkRevertCommit(t, o, h, head, map[string]string{deploymentPath: o.show(t, o.good+":"+deploymentPath)})
				return
			}
			if !errors.Is(err, ErrAlreadyReverted) || h != "" {
				t.Fatalf("Revert = %q, %v; want \"\" and ErrAlreadyReverted", h, err)
			}
			checkHead(t, o, head)
		})
	}
}

func TestRevertErrors(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	unknown := strings.Repeat("ab", 20)
	tests := []struct {
		name   string
		modify func(*RevertRequest)
		want   string
	}{
		{"missing branch", func(r *RevertRequest) { r.Branch = "nope" }, "branch nope not found"},
		{"unknown commit", func(r *RevertRequest) { r.Good = unknown },
			"commit " + unknown + " not found in the history of branch main"},
		{"short hash", func(r *RevertRequest) { r.Bad = r.Bad[:12] }, "full SHA-1"},
		{"same commits", func(r *RevertRequest) { r.Good = r.Bad }, "nothing to revert"},
		{"invalid branch", func(r *RevertRequest) { r.Branch = "a..b" }, "invalid"},
		{"no URL", func(r *RevertRequest) { r.URL = "" }, "no repository URL"},
		{"missing repository", func(r *RevertRequest) { r.URL = "file://" + filepath.Join(t.TempDir(), "nope") },
			"repository not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := o.request(o.URL())
			tt.modify(&req)
			_, err := revert(t, NewReverter(t.TempDir(), fileSources), req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "revert ") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
	checkHead(t, o, o.bad)
}

func TestRevertRetriesAfterConcurrentPush(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	r := NewReverter(t.TempDir(), fileSources)
	var attempts []int
	var other string
	r.beforePush = func(_ context.Context, attempt int) {
		attempts = append(attempts, attempt)
		if attempt == 1 {
			o.Write(servicePath, fixture(t, "service.yaml"))
			other = o.Commit("web Service, pushed meanwhile")
		}
	}
	h, err := revert(t, r, o.request(o.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(attempts, []int{1, 2}) {
		t.Errorf("attempts = %v, want [1 2]", attempts)
	}
	checkRevertCommit(t, o, h, other, map[string]string{
		deploymentPath: o.show(t, o.good+":"+deploymentPath),
		configMapPath:  o.show(t, o.good+":"+configMapPath),
		servicePath:    fixture(t, "service.yaml"),
	})
}

func TestRevertGivesUpOnABusyBranch(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	r := NewReverter(t.TempDir(), fileSources)
	r.beforePush = func(_ context.Context, attempt int) {
		o.Write("busy.txt", strings.Repeat("busy\n", attempt))
		o.Commit("busy")
	}
	_, err := revert(t, r, o.request(o.URL()))
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 attempts: the branch moved on") {
		t.Fatalf("error = %v, want one saying it gave up after 4 attempts", err)
	}
}

func TestRevertPushRefused(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	hook := filepath.Join(o.Dir, ".git", "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewReverter(t.TempDir(), fileSources)
	attempts := 0
	r.beforePush = func(context.Context, int) { attempts++ }
	_, err := revert(t, r, o.request(o.URL()))
	if err == nil || !strings.Contains(err.Error(), "push: ") || !strings.Contains(err.Error(), "pre-receive hook declined") {
		t.Fatalf("error = %v, want the push refused by the pre-receive hook", err)
	}
	if attempts != 1 {
		t.Errorf("attempts = %d, want 1: a refusal is not a race", attempts)
	}
	checkHead(t, o, o.bad)
}

func TestRevertDefaultMessageAndAuthor(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	req := o.request(o.URL())
	req.Message = ""
	req.Author = Signature{Name: "Rollback Bot", Email: "bot@example.com"}
	h, err := revert(t, NewReverter(t.TempDir(), fileSources), req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.Git("show", "-s", "--format=%an <%ae>|%s", h), "Rollback Bot <bot@example.com>|Revert "+o.good[:12]+".."+o.bad[:12]; got != want {
		t.Errorf("author|subject = %q, want %q", got, want)
	}
}

// TestRevertTwiceAtOnce runs two Reverts of one release at once, as two
// weir processes might: the branch gets one revert commit. The one that
// lost the race finds the changes undone, or, when both wrote the same
// commit in the same second, the commit it would have pushed.
func TestRevertTwiceAtOnce(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	r := NewReverter(t.TempDir(), fileSources)
	type result struct {
		hash string
		err  error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			h, err := r.Revert(context.Background(), o.request(o.URL()))
			results <- result{h, err}
		}()
	}
	pushed := map[string]bool{}
	for range 2 {
		res := <-results
		switch {
		case res.err == nil:
			pushed[res.hash] = true
		case !errors.Is(res.err, ErrAlreadyReverted):
			t.Errorf("Revert: %v, want success or ErrAlreadyReverted", res.err)
		}
	}
	if len(pushed) != 1 {
		t.Fatalf("reverts pushed: %v, want exactly 1", pushed)
	}
	for h := range pushed {
		checkRevertCommit(t, o, h, o.bad, map[string]string{
			deploymentPath: o.show(t, o.good+":"+deploymentPath),
			configMapPath:  o.show(t, o.good+":"+configMapPath),
		})
	}
}

func TestRevertCanceled(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := NewReverter(t.TempDir(), fileSources)
	r.beforePush = func(context.Context, int) { cancel() }
	_, err := revertContext(t, ctx, r, o.request(o.URL()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want one that is context.Canceled", err)
	}
	checkHead(t, o, o.bad)
}
