// Package delivery releases changes to a Deployment's pod template
// progressively, as a Rollout beside it declares.
//
// It has two halves that meet in the cluster:
//
//   - During a sync, a Holder looks at each Rollout in the rendered set and
//     the Deployment it targets. When the revision changes that
//     Deployment's pod template, the Holder keeps the live template (and
//     replicas) in what is applied, so the stable Deployment keeps serving,
//     and once the sync has applied everything else it writes the new
//     template into a canary (or, for blue/green, preview) copy,
//     "<target>-canary" or "<target>-preview", owned by the Rollout and
//     annotated with the template's hash and the revision that brought it.
//     While a rollout runs, the router's object in Git (HTTPRoute,
//     VirtualService, Ingress) is also kept at its live spec, so a sync
//     does not put Git's weights back; Git's edits to it apply once the
//     rollout ends.
//   - A Driver moves each Rollout along: it reads the stable and canary
//     Deployments, runs the steps (weights through a traffic.Router, pauses,
//     analysis through analysis.Analyzer, header routes, mirrors), and
//     records every step in the Rollout's status before it acts on the next,
//     so a restarted controller resumes without shifting traffic twice.
//
// Promotion goes through the sync: the Driver marks the Rollout Promoting
// (with a router, it sends all traffic to the canary first) and asks for
// a sync, in which the Holder lets Git's template through to the stable
// Deployment; once it runs the new template and is available, the Driver
// sends all traffic to stable and, with a router after the canary's
// scaleDownDelay, removes the copy. An abort
// (failed analysis, a canary that never became available, or by hand)
// sends all traffic back to stable, scales the copy to zero, quarantines
// the template's hash (the Holder never releases it again, whatever
// commit brings it, until retried), and, when the Rollout asks, pushes a
// revert commit to the tracked branch through gitwrite.
package delivery
