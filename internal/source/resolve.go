package source

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/weir/api/v1alpha1"
)

// target is a ref resolved against a remote's advertised refs.
type target struct {
	// name is the branch or tag that the Revision shows; empty for a
	// commit ref.
	name string
	// commit is the commit the remote advertises for the ref.
	commit plumbing.Hash
	// ref is a remote ref whose tip is the commit, to fetch at depth 1;
	// empty when no branch or tag points at the commit.
	ref plumbing.ReferenceName
	// pinned is set when the commit was asked for by its hash: no other
	// commit will do, even if ref moves on.
	pinned bool
	// tag is the annotated tag that the ref names; zero for a branch, a
	// commit or a lightweight tag.
	tag plumbing.Hash
}

var fullSHA1 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// validateRef checks what the API's validation checks too, for callers that
// build refs themselves.
func validateRef(ref v1alpha1.GitRef) error {
	set := 0
	for _, field := range []string{ref.Branch, ref.Tag, ref.SemVer, ref.Commit} {
		if field != "" {
			set++
		}
	}
	if set > 1 {
		return errors.New("set at most one of branch, tag, semver and commit")
	}
	if ref.Commit != "" && !fullSHA1.MatchString(ref.Commit) {
		return errors.New("a commit must be a full SHA-1 of 40 lowercase hex digits")
	}
	return nil
}

// resolve finds the commit that ref selects among the remote's refs.
func resolve(ref v1alpha1.GitRef, adv advertised) (target, error) {
	switch {
	case ref.Commit != "":
		return resolveCommit(ref.Commit, adv), nil
	case ref.Tag != "":
		return resolveName(plumbing.NewTagReferenceName(ref.Tag), ref.Tag, "tag", adv)
	case ref.SemVer != "":
		return resolveSemVer(ref.SemVer, adv)
	}
	branch := ref.BranchOrDefault()
	return resolveName(plumbing.NewBranchReferenceName(branch), branch, "branch", adv)
}

// resolveName resolves a branch or a tag by its name.
func resolveName(full plumbing.ReferenceName, short, kind string, adv advertised) (target, error) {
	h, ok := adv.commit(full.String())
	if !ok {
		return target{}, &refNotFoundError{what: kind + " " + short}
	}
	t := target{name: short, commit: h, ref: full}
	if obj := adv.refs[full.String()]; obj != h {
		t.tag = obj
	}
	return t, nil
}

// resolveSemVer picks the highest tag that satisfies the range.
func resolveSemVer(rangeSpec string, adv advertised) (target, error) {
	constraint, err := semver.NewConstraint(rangeSpec)
	if err != nil {
		return target{}, fmt.Errorf("invalid semver range %q: %w", rangeSpec, err)
	}
	var best *semver.Version
	var bestTag string
	for _, tag := range tagNames(adv) {
		v, err := semver.NewVersion(tag)
		if err != nil || !constraint.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		return target{}, &refNotFoundError{what: "a tag matching semver " + rangeSpec}
	}
	return resolveName(plumbing.NewTagReferenceName(bestTag), bestTag, "tag", adv)
}

// tagNames are the short names of the remote's tags, sorted so that of two
// tags naming the same version ("1.0.0" and "v1.0.0") the choice is stable.
func tagNames(adv advertised) []string {
	var tags []string
	for name := range adv.refs {
		if tag, ok := strings.CutPrefix(name, "refs/tags/"); ok {
			tags = append(tags, tag)
		}
	}
	sort.Strings(tags)
	return tags
}

// resolveCommit looks for a branch or tag whose tip is the commit, so that
// a depth-1 fetch brings it; without one the commit may still be deeper in
// some history, which only a fetch can tell.
func resolveCommit(sha string, adv advertised) target {
	h := plumbing.NewHash(sha)
	t := target{commit: h, pinned: true}
	var tips []string
	for name := range adv.refs {
		if !strings.HasPrefix(name, "refs/heads/") && !strings.HasPrefix(name, "refs/tags/") {
			continue
		}
		if c, _ := adv.commit(name); c == h {
			tips = append(tips, name)
		}
	}
	if len(tips) > 0 {
		sort.Strings(tips) // refs/heads/ before refs/tags/
		t.ref = plumbing.ReferenceName(tips[0])
	}
	return t
}
