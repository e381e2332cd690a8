// Package cluster reaches the remote clusters that Applications sync to
// (spec.destination.cluster): it reads each cluster's kubeconfig from its
// Secret, refusing any credential but static ones, and keeps, per
// cluster, the clients built from it, with the cluster's own timeouts and
// rate limits, rebuilt when the Secret changes and dropped when no
// Application targets the cluster any more.
package cluster
