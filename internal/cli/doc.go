// Package cli defines weir's command line: the controller, the commands that
// inspect and drive Applications, and `weir dev` for a local cluster.
package cli
