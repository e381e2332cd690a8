// Package config holds weir's install manifests: default (the whole
// install, `kubectl apply -k config/default`) and the crd, rbac and manager
// bases it builds on, embedded for `weir bootstrap`.
package config

import "embed"

// FS holds the directories default, crd, rbac and manager.
//
//go:embed default crd rbac manager
var FS embed.FS
