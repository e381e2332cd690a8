// Package version says which weir a binary is: the release its source is
// at, the commit it was built from, and the Go toolchain that built it.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release weir's source is at. config/default and the Helm
// chart name weir's image by this tag, and a release pushes the image
// under it; a test keeps the three in step.
const Version = "v0.1.0"

// commit is the Git commit the binary was built from, set by the image
// builder with -ldflags "-X weir.dev/weir/internal/version.commit=...".
var commit string

// Info describes one build of weir.
type Info struct {
	// Version is the release, Version above.
	Version string
	// Commit is the source revision, "unknown" when the build did not
	// record one.
	Commit string
	// GoVersion is the toolchain that built the binary.
	GoVersion string
	// Platform is the binary's operating system and architecture.
	Platform string
}

// Get describes the running binary. The commit comes from the linker flag
// the image builder sets, else from what `go build` recorded of the
// checkout (-buildvcs).
func Get() Info {
	return Info{
		Version:   Version,
		Commit:    buildCommit(),
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// String is the one line `weir version` prints.
func (i Info) String() string {
	return fmt.Sprintf("weir %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}

func buildCommit() string {
	if commit != "" {
		return commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "unknown"
	}
	if modified == "true" {
		return revision + "-dirty"
	}
	return revision
}

// BuildTags are the tags weir's binary is built with (make build, the image
// builder, the tests that run the binary). kustomize_disable_go_plugin_support
// leaves out kustomize's loader of Go plugins, which weir never loads: its
// import of package plugin makes the linker export every symbol and keep
// every method, 64 MB more binary and some 40 MiB more resident memory.
const BuildTags = "kustomize_disable_go_plugin_support"
