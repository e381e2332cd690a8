// Package sourcepolicy decides whether SourcePolicies allow an Application:
// the Git repository it reads, the chart repository its Helm chart comes
// from, and the namespaces it writes to. A cluster's administrator writes
// SourcePolicies for the few rules about tenants that RBAC cannot express;
// every policy that selects an Application's namespace must allow it.
//
// Repository URLs are compared in a normal form (NormalizeURL), so that no
// spelling of a URL (an scp-like address, a user name, a default port, an
// upper-case host, ".." in the path) reaches a repository that its
// canonical spelling would not.
package sourcepolicy
