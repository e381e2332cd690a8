package source

import (
	"strings"
	"time"

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
	// Dir holds the commit's tree. It is never modified after Fetch
	// returns it and stays in place while it is among the newest few
	// commits of its repository or was returned in the last few minutes.
	Dir string
}

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

// withRevision returns a copy of a whose Revision names refName, or only
// the commit when refName is empty.
func (a Artifact) withRevision(refName string) Artifact {
	a.Revision = "sha1:" + a.Commit
	if refName != "" {
		a.Revision = refName + "@" + a.Revision
	}
	return a
}

// subject is the first line of a commit message.
func subject(message string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(message, "\r\n"), "\n")
	return strings.TrimRight(line, "\r ")
}
