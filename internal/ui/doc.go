// Package ui serves weir's web UI: the Applications, each Application's
// resource tree, live diff, drift, history and conditions, and each
// Rollout's steps and analysis, with the actions a person may take on them.
//
// Pages are rendered on the server with html/template; a small embedded
// script listens to server-sent events and reloads the changing part of a
// page when the objects it shows change, so there is no client build.
//
// Every read and action is made as the person using the UI, never as weir:
// with the user's kubeconfig (weir ui on a laptop), or with the bearer
// token the user pasted at login (in a cluster). The API server's RBAC
// decides; the UI offers only the actions a SelfSubjectAccessReview allows.
// The objects of an Application that syncs to a remote cluster are read and
// steered there with the credentials of its kubeconfig Secret, which the
// UI reads as the user first; steering a Rollout there takes patch on the
// Application too, since RBAC on that cluster sees only the Secret's user.
// Sessions live in the server's memory, named by a random HttpOnly,
// Secure, SameSite=Strict cookie, and every action carries the session's
// CSRF token.
package ui
