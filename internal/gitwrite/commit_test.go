package gitwrite

import (
	"context"
	"errors"
	"regexp"
	"testing"
)

// retag is an Editor that sets every web image to one tag.
type retag string

var webImage = regexp.MustCompile(`web:[0-9.]+`)

func (r retag) Edit(_ string, content []byte) ([]byte, bool, error) {
	out := webImage.ReplaceAll(content, []byte("web:"+r))
	return out, string(out) != string(content), nil
}

// commitRequest asks to set the web image to tag in deploy/ of o's main.
func commitRequest(o *origin, tag string) CommitRequest {
	return CommitRequest{
		URL: o.URL(), Branch: "main", Path: "deploy", Editor: retag(tag),
		Message: "web: " + tag, Author: Signature{Name: "Image Bot", Email: "bot@example.com"},
	}
}

func TestCommitEditsTheFilesOfThePathAndPushes(t *testing.T) {
	o := newOrigin(t)
	o.Write("notes/web.txt", "web:1.5.0\n")
	parent := o.Commit("notes")
	h, err := NewReverter(t.TempDir(), fileSources).Commit(context.Background(), commitRequest(o, "1.6.0"))
	if err != nil {
		t.Fatal(err)
	}
	if head := o.Git("rev-parse", "main"); head != h {
		t.Fatalf("main is at %s, want the commit %s", head, h)
	}
	if got := o.Git("rev-parse", h+"^@"); got != parent {
		t.Errorf("parents = %s, want %s", got, parent)
	}
	if got := o.Git("show", "-s", "--format=%an <%ae>|%B", h); got != "Image Bot <bot@example.com>|web: 1.6.0" {
		t.Errorf("author|message = %q", got)
	}
	if got := o.Git("diff", "--name-only", parent, h); got != deploymentPath {
		t.Errorf("files changed = %q, want only %s", got, deploymentPath)
	}
	if got := o.show(t, h+":"+deploymentPath); !webImage.MatchString(got) || !regexp.MustCompile(`web:1\.6\.0`).MatchString(got) {
		t.Errorf("%s =\n%s\nwant web:1.6.0", deploymentPath, got)
	}
}

func TestCommitNothingToCommit(t *testing.T) {
	o := newOrigin(t)
	head := o.Head()
	_, err := NewReverter(t.TempDir(), fileSources).Commit(context.Background(), commitRequest(o, "1.5.0"))
	if !errors.Is(err, ErrNothingToCommit) {
		t.Fatalf("Commit = %v, want ErrNothingToCommit", err)
	}
	checkHead(t, o, head)
}

// A push that loses the race to another writer, who changed the very line
// the commit edits, is redone on the new head: the other writer's other
// changes are kept, and the line says what the commit writes.
func TestCommitRedoneOnTheNewHead(t *testing.T) {
	o := newOrigin(t)
	r := NewReverter(t.TempDir(), fileSources)
	var theirs string
	r.beforePush = func(_ context.Context, attempt int) {
		if attempt == 1 {
			o.edit(t, deploymentPath, append(append([]string{}, otherImage...), moreReplicas...)...)
			theirs = o.Commit("web 1.5.1, 5 replicas")
		}
	}
	h, err := r.Commit(context.Background(), commitRequest(o, "1.6.0"))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Git("rev-parse", h+"^@"); got != theirs {
		t.Errorf("parent = %s, want the other writer's %s", got, theirs)
	}
	got := o.show(t, h+":"+deploymentPath)
	for _, want := range []string{"web:1.6.0", "replicas: 5"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(got) {
			t.Errorf("%s has no %q:\n%s", deploymentPath, want, got)
		}
	}
}

// A review branch gets the commit on top of the tracked branch's head,
// once, and is replaced when the tracked branch moves on.
func TestCommitToAReviewBranch(t *testing.T) {
	o := newOrigin(t)
	main := o.Head()
	r := NewReverter(t.TempDir(), fileSources)
	req := commitRequest(o, "1.6.0")
	req.PushBranch = "weir/web"
	first, err := r.Commit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	checkHead(t, o, main)
	if got := o.Git("rev-parse", "weir/web", first+"^"); got != first+"\n"+main {
		t.Errorf("weir/web and its parent = %q, want %s and %s", got, first, main)
	}
	if _, err := r.Commit(context.Background(), req); !errors.Is(err, ErrNothingToCommit) {
		t.Errorf("second Commit = %v, want ErrNothingToCommit", err)
	}
	o.edit(t, deploymentPath, moreReplicas...)
	moved := o.Commit("5 replicas")
	second, err := r.Commit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Git("rev-parse", "weir/web", second+"^"); got != second+"\n"+moved {
		t.Errorf("weir/web and its parent = %q, want %s and %s", got, second, moved)
	}
}

func TestCommitErrors(t *testing.T) {
	o := newOrigin(t)
	for name, edit := range map[string]func(*CommitRequest){
		"no message":     func(r *CommitRequest) { r.Message = " " },
		"no editor":      func(r *CommitRequest) { r.Editor = nil },
		"bad branch":     func(r *CommitRequest) { r.PushBranch = "a..b" },
		"missing branch": func(r *CommitRequest) { r.Branch = "nope" },
	} {
		t.Run(name, func(t *testing.T) {
			req := commitRequest(o, "1.6.0")
			edit(&req)
			if _, err := NewReverter(t.TempDir(), fileSources).Commit(context.Background(), req); err == nil {
				t.Error("Commit: no error")
			}
		})
	}
}
