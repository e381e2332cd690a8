package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"weir.dev/weir/internal/version"
)

// commitSymbol is the variable that holds the commit in weir's binary.
const commitSymbol = "weir.dev/weir/internal/version.commit"

// compile builds the main package pkg of the module in dir for platform
// into out, as a static binary that does not depend on where or when it
// was built.
func compile(ctx context.Context, dir, pkg, revision string, platform ocispec.Platform, out string) error {
	ldflags := "-s -w -buildid= -X " + commitSymbol + "=" + revision
	cmd := exec.CommandContext(ctx, "go", "build", "-tags="+version.BuildTags, "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS="+platform.OS, "GOARCH="+platform.Architecture,
		// Fixed microarchitecture levels: the environment must not
		// change the binary.
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s: %w\n%s", pkg, platformString(platform), err, output)
	}
	return nil
}

// binaryPath is where compile puts the binary for platform under dir.
func binaryPath(dir string, platform ocispec.Platform) string {
	return filepath.Join(dir, platform.OS+"-"+platform.Architecture, "weir")
}

func platformString(p ocispec.Platform) string { return p.OS + "/" + p.Architecture }
