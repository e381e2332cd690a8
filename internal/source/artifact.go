package source

import (
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Artifact is one resolved commit, checked out read-only.
type Artifact struct {
	// Revision names the ref and the commit, Flux style: "main@sha1:<hex>"
	// for a branch, "v1.2.0@sha1:<hex>" for a tag or a semver range (the
	// tag chosen), and "sha1:<hex>" for a commit ref.
	Revision string
	// Commit is the full hex SHA-1 of the commit.
	Commit string
	// Author is the commit's author as "Name <email>".
	Author string
	// Message is the subject line of the commit message.
	Message string
	// Time is the commit time (the committer's date).
	Time time.Time
	// Objects are the commit and, when the ref names an annotated tag,
	// the tag, as Git encodes them: what signature verification reads.
	Objects Objects
	// Dir holds the commit's tree. It is never modified after Fetch
	// returns it and stays in place while it is among the newest few
	// commits of its repository or was returned in the last few minutes.
	Dir string
}

// Objects are a revision's signed objects as Git encodes them, without
// the header that gives their type and size; empty when absent.
type Objects struct {
	// Commit is the commit object; empty when it is larger than
	// MaxSignedObject.
	Commit string
	// Tag is the annotated tag object that the ref names; empty when the
	// ref is a branch, a commit or a lightweight tag, or when the tag is
	// larger than MaxSignedObject.
	Tag string
}

// MaxSignedObject bounds the commit and tag objects an Artifact keeps, in
// bytes: Git's own are a few hundred bytes, a few KiB when signed.
const MaxSignedObject = 1 << 20

// newArtifact describes c, exported to dir; the Revision is left to the
// caller because one commit can be reached through several refs.
func newArtifact(c *object.Commit, dir string) Artifact {
	return Artifact{
		Commit:  c.Hash.String(),
		Author:  c.Author.Name + " <" + c.Author.Email + ">",
		Message: subject(c.Message),
		Time:    c.Committer.When,
		Dir:     dir,
	}
}

// forTarget returns a copy of a as t reaches it: its Revision names t's
// branch or tag, or only the commit for a commit ref, and it holds t's
// annotated tag, if any.
func (a Artifact) forTarget(t target) Artifact {
	a.Revision = "sha1:" + a.Commit
	if t.name != "" {
		a.Revision = t.name + "@" + a.Revision
	}
	if t.tag.IsZero() {
		a.Objects.Tag = ""
	}
	return a
}

// hasTag reports whether a holds the annotated tag h, or h is zero.
func (a Artifact) hasTag(h plumbing.Hash) bool {
	return h.IsZero() || a.Objects.Tag != "" && plumbing.ComputeHash(plumbing.TagObject, []byte(a.Objects.Tag)) == h
}

// subject is the first line of a commit message.
func subject(message string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(message, "\r\n"), "\n")
	return strings.TrimRight(line, "\r ")
}
