// Package source is weir's Git source stage: it turns a repository URL and a
// ref (branch, tag, semver range or commit) into an Artifact, the commit's
// tree checked out in a directory that is never modified once returned.
//
// A Fetcher keeps one cache per repository URL, shared by every caller:
//
//	<cacheDir>/<hash of url>/repo.git   shallow bare clone, the object store
//	<cacheDir>/<hash of url>/<commit>/  one exported tree per commit
//
// Each Fetch first lists the remote's refs (the ls-remote exchange, which is
// also where the caller's credentials are checked) and resolves the ref to a
// commit. A commit already exported is returned as it is, without fetching;
// otherwise only what that commit needs is fetched, at depth 1 when the
// commit is the tip of a branch or tag, and its tree is written to a
// temporary directory that is renamed into place, so readers never see half
// a tree. Work on one URL is serialized; different URLs proceed in parallel.
//
// Repositories are reached in-process with go-git over file://, plain local
// paths, HTTP(S) with basic auth or a token, and SSH with a private key whose
// server must be listed in the known_hosts given with it. Errors name the
// URL, with any userinfo redacted, and the ref, and never contain a password,
// token or key.
package source
