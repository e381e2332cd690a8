// Package helmrepo is the source of Helm charts that do not live in Git: it
// pulls a chart, by name and by exact version or semver range, from an
// HTTP(S) chart repository (an index.yaml beside packaged .tgz charts) or an
// OCI registry (oci://), with Helm's own getter and registry client, and
// keeps it in an on-disk cache:
//
//	<cacheDir>/<hash of repository URL and chart name>/<name>-<version>.tgz
//
// A chart version, once published, is taken to be immutable: only a version
// not yet cached is downloaded. Every pull still resolves its version with
// the repository (the index, or the registry's tags or manifest), as the Git
// source lists a remote's refs before it consults its cache: that is where
// the caller's credentials are checked, so a chart cached for one
// Application is never handed to another that may not read it, and a range
// picks up a newly published version. Archives are written to a temporary file and renamed
// into place, so readers never see half an archive. A chart listed in an
// index with a digest is checked against it.
//
// Credentials are per pull and never shared: the registry client never
// falls back to the Docker or Helm credentials of the process, and basic
// auth is sent to the repository's host only. Errors name the repository,
// chart and version and never hold a password.
package helmrepo
