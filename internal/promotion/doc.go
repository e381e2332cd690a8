// Package promotion moves changes through a Pipeline's stages by commits:
// when every Application of a stage runs a change released (Ready and
// Healthy at one revision, no Rollout under way) and the stage's soak
// time has passed, the change (the images its Deployments run, and the
// values of its files at that revision) is committed to the next stage's
// files. A change whose release fails in a stage (a Rollout aborts it,
// and weir reverts it there) is stopped: it is never committed to a later
// stage. A stage that requires approval receives a change only once the
// Pipeline's approval annotation names the id weir gave that change while
// it waited, and only while a Gate (internal/approval) vouches that the
// API server checked the approver's name.
package promotion
