package server

import (
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Git ref prefixes of pushed branches and tags.
const (
	branchPrefix = "refs/heads/"
	tagPrefix    = "refs/tags/"
)

// Push is a push to a repository, as a provider's payload describes it.
type Push struct {
	// Repositories are the URLs the payload gives for the repository
	// (HTTPS, SSH, web); any of them may be the one an Application names.
	Repositories []string
	// Ref is the pushed ref: refs/heads/<branch> or refs/tags/<tag>.
	Ref string
}

// keys are the distinct repository keys of the push's URLs.
func (p Push) keys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, u := range p.Repositories {
		if key, ok := repoKey(u); ok && !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	return keys
}

// tracks reports whether a push of ref can change the commit that app
// deploys: a branch push the Application tracking that branch, a tag push
// one deploying that tag or a semver range. An Application pinned to a
// commit is never refreshed, nor is a suspended one.
func tracks(app *weirv1.Application, ref string) bool {
	r := app.Spec.Source.Ref
	if app.Spec.Suspend || r.Commit != "" {
		return false
	}
	if branch, ok := strings.CutPrefix(ref, branchPrefix); ok {
		return r.Tag == "" && r.SemVer == "" && r.BranchOrDefault() == branch
	}
	if tag, ok := strings.CutPrefix(ref, tagPrefix); ok {
		return r.Tag == tag || r.SemVer != ""
	}
	return false
}
