// Package bootstrap installs weir so that weir manages itself from Git, as
// `flux bootstrap` and Argo CD's app-of-apps do: it commits weir's install
// manifests and an Application that syncs them to a Git repository,
// applies the same objects to the cluster, and from then on upgrading
// weir is a commit.
//
// Bootstrapping again with the same options changes nothing: no commit
// is made when the files in Git are already the ones it would write, and
// server-side apply of unchanged objects leaves them as they are.
package bootstrap
