// Package controller wires weir's stages into reconcilers. It holds no
// algorithms: the Application reconciler reads like the data flow, from Git
// to a healthy cluster, and each stage lives in its own package. The Rollout
// reconciler hands each Rollout to the delivery package's Driver; the two
// reconcilers meet through channels: a sync tells the Rollouts it released
// a template to, and a Rollout asks for the sync that promotes it.
package controller
