// Package notify tells people and systems what weir did: it watches the
// Events weir records on its own objects (Applications, Rollouts and the
// objects of image automation and promotion), picks those whose reason is
// one weir notifies of, routes each to the Notifications of its namespace
// that select it, and delivers it to their providers: a signed JSON
// webhook, Slack, Microsoft Teams, Alertmanager, or the commit statuses of
// GitHub, GitLab and Gitea.
//
// Watching Events rather than being called by the reconcilers keeps the
// sync path free of notification code: a sync only records its Event, as
// it did before, and a reason another part of weir starts recording is
// routed without touching this package's callers. Delivery happens on a
// bounded queue with its own workers, so that a slow or hung receiver
// never slows a sync; a Limiter keeps a flapping Application from sending
// more than one message per key and window.
package notify
