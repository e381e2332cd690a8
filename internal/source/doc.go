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
// Nothing a repository holds can exhaust the process: a fetched pack is
// checked object by object before it is unpacked, a checkout is bounded in
// bytes and files (Limits), files are streamed to disk, every Fetch has a
// deadline (an SSH handshake included), and the cache is kept under a size
// by evicting the least recently used repositories.
//
// Repositories are reached in-process with go-git over HTTP(S) with basic
// auth or a token, SSH with a private key whose server must be listed in the
// known_hosts given with it, and, when Options allow it, file:// and plain
// local paths. Errors name the URL, with any userinfo redacted, and the ref,
// and never contain a password, token or key.
package source
