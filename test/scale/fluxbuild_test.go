package scale

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"weir.dev/weir/internal/testenv"
)

// fluxVersion is the release of Flux's source-controller and
// kustomize-controller that -controller=flux measures: the newest whose
// go.mod asks for no newer Go than weir's.
const fluxVersion = "v1.9.6"

// fluxController is one of Flux's controllers, built from its Go module.
type fluxController struct {
	name string // source-controller, kustomize-controller
	// pins replaces the versions of modules the release requires that
	// the Go module proxy no longer serves with the nearest it does.
	pins map[string]string
}

// fluxControllers are the controllers -controller=flux runs.
var fluxControllers = []fluxController{
	{name: "source-controller", pins: map[string]string{"github.com/fluxcd/pkg/artifact": "v0.18.0"}}, // v0.18.3 is not served
	{name: "kustomize-controller"},
}

func (fc fluxController) module() string { return "github.com/fluxcd/" + fc.name + "@" + fluxVersion }

// buildFlux returns the binary of fc and the directory of its module's
// source (its CRDs are in config/crd/bases). It builds the binary the first
// time, from a copy of the module's source, into the checkout's git-ignored
// .cache/flux, keyed by version; a few minutes, then none.
func buildFlux(t testing.TB, fc fluxController) (bin, src string) {
	t.Helper()
	src = testenv.ModuleDir(t, fc.module())
	dest, err := filepath.Abs(filepath.Join("..", "..", ".cache", "flux", fc.name+"-"+fluxVersion))
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dest, fc.name)
	if _, err := os.Stat(bin); err == nil {
		return bin, src
	}
	t.Logf("building %s %s from its Go module into %s", fc.name, fluxVersion, dest)
	dir := filepath.Join(t.TempDir(), fc.name)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatalf("copy the source of %s: %v", fc.module(), err)
	}
	fixReplaces(t, dir, fc.pins)
	tmp := dest + ".build"
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	goTool(t, dir, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(tmp, fc.name), ".")
	if err := os.RemoveAll(dest); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		t.Fatal(err)
	}
	return bin, src
}

// fixReplaces makes the copied module in dir build outside its repository:
// a replace by a directory of the repository that the module's source does
// not hold (./api, a module of its own) points at that module's download
// at the version required, and pins replace versions no longer served.
func fixReplaces(t testing.TB, dir string, pins map[string]string) {
	t.Helper()
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]string{}
	for _, r := range f.Require {
		required[r.Mod.Path] = r.Mod.Version
	}
	var edits []string
	for _, r := range f.Replace {
		if r.New.Version != "" || !strings.HasPrefix(r.New.Path, ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, r.New.Path)); err == nil {
			continue
		}
		edits = append(edits, "-replace="+r.Old.Path+"="+testenv.ModuleDir(t, r.Old.Path+"@"+required[r.Old.Path]))
	}
	for path, version := range pins {
		edits = append(edits, "-replace="+path+"="+path+"@"+version)
	}
	goTool(t, dir, append([]string{"mod", "edit"}, edits...)...)
}

// goTool runs the go tool in the module in dir, outside weir's module and
// free to complete the module's go.sum, failing t on error.
func goTool(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, tail(out, 20000))
	}
}
