// Package identity says who weir is when it acts for an Application, and
// keeps the clients that act so.
//
// An Application that names a ServiceAccount (spec.serviceAccountName, or
// the controller's default) is served by requests that impersonate that
// ServiceAccount of its namespace: the API server authorizes them with what
// RBAC grants the ServiceAccount, not weir. Each such request also carries
// the user extra ApplicationExtra, which names the Application, so that an
// admission policy can tell weir's writes from those of someone who holds
// the ServiceAccount's token.
//
//	policy := identity.Policy{DefaultServiceAccount: "weir-tenant"}
//	clients, err := identity.NewCache(cfg, identity.DefaultCacheSize, build)
//	...
//	c, err := clients.Get(policy.For(app))
//
// Policy also checks the references of Applications and Rollouts against
// the controller's --no-cross-namespace-refs.
package identity
