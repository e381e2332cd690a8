// Package server receives push webhooks from Git hosts and refreshes the
// Applications that track the pushed branch or tag, so that a commit is
// synced in seconds rather than at the next interval.
//
// One path per provider: /hooks/github, /hooks/gitlab, /hooks/gitea (Gitea
// and Forgejo) and /hooks/generic. Every request must prove that it knows
// a secret (an HMAC-SHA256 signature of the body, or GitLab's token): the
// shared one, which refreshes every Application of the push, or the Secret
// that Applications name in spec.source.webhookSecretRef, which refreshes
// those Applications only. A request without a signature or token is
// refused before its payload is read. The
// receiver runs on every replica: the leader queues the Applications at
// once, a standby asks the leader through an annotation.
package server
