package localcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Module paths whose versions, pinned in the build modules' go.mod files,
// key the binary cache.
const (
	kubernetesModule = "k8s.io/kubernetes"
	kwokModule       = "sigs.k8s.io/kwok"
	corednsModule    = "github.com/coredns/coredns"
	traefikModule    = "github.com/traefik/traefik/v3"
)

// kubernetesPackages are the control-plane commands built from the
// hack/controlplane module; etcd is a one-line main package inside it.
var kubernetesPackages = []string{
	"./etcd",
	"k8s.io/kubernetes/cmd/kube-apiserver",
	"k8s.io/kubernetes/cmd/kube-controller-manager",
	"k8s.io/kubernetes/cmd/kube-scheduler",
	"k8s.io/kubernetes/cmd/kubectl",
}

// nodePackages are the commands of a real node, built from the
// hack/controlplane module like the control plane; pause is the sandbox
// image's one binary.
var nodePackages = []string{
	"./pause",
	"k8s.io/kubernetes/cmd/kubelet",
	"k8s.io/kubernetes/cmd/kube-proxy",
}

// kwokStageFiles are the kwok stages, inside its module, that make fake nodes
// Ready and fake pods Running and Ready at once.
var kwokStageFiles = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat/node-heartbeat.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// BuildOptions says where the control plane's build modules are and where
// the built binaries are cached.
type BuildOptions struct {
	// Source is the hack/controlplane directory of a weir checkout, or
	// the copy of it that weir embeds, written out.
	Source string
	// Cache holds one directory per part, pinned version and hash of
	// its sources.
	Cache string
	// Log receives the go tool's output; nil discards it.
	Log io.Writer
	// RealNode also builds what a real node runs: kubelet, kube-proxy,
	// the sandbox image's pause binary and CoreDNS, and, in a checkout,
	// Traefik, the Gateway API data plane in front of the node's pods.
	RealNode bool
}

// Binaries locates a built control plane.
type Binaries struct {
	// KubernetesVersion is the version the binaries report, e.g. v1.37.2.
	KubernetesVersion string `json:"kubernetesVersion"`
	// Kubernetes holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler and kubectl.
	Kubernetes string `json:"kubernetes"`
	// Kwok holds kwok and its stage configuration.
	Kwok string `json:"kwok"`
	// Node holds kubelet, kube-proxy and pause, for a real node.
	Node string `json:"node"`
	// CoreDNS holds coredns, the cluster DNS of a real node's pods.
	CoreDNS string `json:"coredns"`
	// Traefik holds traefik, a Gateway API implementation that runs on
	// the host in front of a real node's pods; empty outside a weir
	// checkout, where its build module is not.
	Traefik string `json:"traefik"`
}

// Path returns the path of the named binary.
func (b Binaries) Path(name string) string {
	switch name {
	case "kwok":
		return filepath.Join(b.Kwok, name)
	case "kubelet", "kube-proxy", "pause":
		return filepath.Join(b.Node, name)
	case "coredns":
		return filepath.Join(b.CoreDNS, name)
	case "traefik":
		return filepath.Join(b.Traefik, name)
	}
	return filepath.Join(b.Kubernetes, name)
}

// kwokStages is the stage configuration kwok is started with.
func (b Binaries) kwokStages() string { return filepath.Join(b.Kwok, "stages.yaml") }

// Check reports the first binary that is missing.
func (b Binaries) Check() error {
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"} {
		if _, err := os.Stat(b.Path(name)); err != nil {
			return fmt.Errorf("control-plane binary %s is missing (build it with `weir dev cluster build`): %w", name, err)
		}
	}
	if _, err := os.Stat(b.kwokStages()); err != nil {
		return fmt.Errorf("kwok stage configuration is missing: %w", err)
	}
	return nil
}

// CheckNode reports the first binary of a real node that is missing.
func (b Binaries) CheckNode() error {
	names := []string{"kubelet", "kube-proxy", "pause", "coredns"}
	if b.Traefik != "" {
		names = append(names, "traefik")
	}
	for _, name := range names {
		if _, err := os.Stat(b.Path(name)); err != nil {
			return fmt.Errorf("real-node binary %s is missing (build it with `weir dev cluster build`): %w", name, err)
		}
	}
	return nil
}

// Locate returns the binaries that opts would build, and whether all of
// them are already in the cache. Each part is cached under its pinned
// version and a hash of the build module's files it is built from, so that
// a change to hack/controlplane (a main package, a go.mod or go.sum) builds
// that part again.
func Locate(opts BuildOptions) (Binaries, bool, error) {
	k8s, err := pinnedVersion(filepath.Join(opts.Source, "go.mod"), kubernetesModule)
	if err != nil {
		return Binaries{}, false, err
	}
	kwok, err := pinnedVersion(filepath.Join(opts.Source, "kwok", "go.mod"), kwokModule)
	if err != nil {
		return Binaries{}, false, err
	}
	coredns, err := pinnedVersion(filepath.Join(opts.Source, "coredns", "go.mod"), corednsModule)
	if err != nil {
		return Binaries{}, false, err
	}
	var b Binaries
	b.KubernetesVersion = k8s
	type part struct {
		dir           *string
		name, version string
		sources       []string
	}
	parts := []part{
		{&b.Kubernetes, "kubernetes", k8s, []string{"go.mod", "go.sum", "etcd/main.go"}},
		{&b.Kwok, "kwok", kwok, []string{"kwok/go.mod", "kwok/go.sum"}},
		{&b.Node, "node", k8s, []string{"go.mod", "go.sum", "pause/main.go"}},
		{&b.CoreDNS, "coredns", coredns, []string{"coredns/go.mod", "coredns/go.sum", "coredns/main.go"}},
	}
	// Traefik's build module is only in a checkout: weir embeds the others.
	if traefikMod := filepath.Join(opts.Source, "traefik", "go.mod"); fileExists(traefikMod) {
		traefik, err := pinnedVersion(traefikMod, traefikModule)
		if err != nil {
			return Binaries{}, false, err
		}
		parts = append(parts, part{&b.Traefik, "traefik", traefik, []string{"traefik/go.mod", "traefik/go.sum"}})
	}
	for _, part := range parts {
		key, err := sourceKey(opts.Source, part.sources)
		if err != nil {
			return Binaries{}, false, err
		}
		*part.dir = filepath.Join(opts.Cache, part.name+"-"+part.version+"-"+key)
	}
	cached := b.Check() == nil
	if opts.RealNode {
		cached = cached && b.CheckNode() == nil
	}
	return b, cached, nil
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// sourceKey is a short hash of the names and contents of files, relative
// to dir.
func sourceKey(dir string, files []string) (string, error) {
	h := sha256.New()
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("read control-plane build source: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Build compiles whatever part of the control plane is not cached yet and
// returns where the binaries are. The first build takes minutes; once
// cached, Build returns at once without running the go tool.
func Build(ctx context.Context, opts BuildOptions) (Binaries, error) {
	b, cached, err := Locate(opts)
	if err != nil || cached {
		return b, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if _, err := os.Stat(b.Path("kube-apiserver")); err != nil {
		if err := buildInto(ctx, b.Kubernetes, func(tmp string) error {
			return buildKubernetes(ctx, opts, b.KubernetesVersion, tmp)
		}); err != nil {
			return b, err
		}
	}
	if _, err := os.Stat(b.Path("kwok")); err != nil {
		if err := buildInto(ctx, b.Kwok, func(tmp string) error {
			return buildKwok(ctx, opts, tmp)
		}); err != nil {
			return b, err
		}
	}
	if opts.RealNode {
		if err := buildNode(ctx, opts, b); err != nil {
			return b, err
		}
		if err := b.CheckNode(); err != nil {
			return b, err
		}
	}
	return b, b.Check()
}

// buildNode compiles the real node's binaries that are not cached yet.
func buildNode(ctx context.Context, opts BuildOptions, b Binaries) error {
	if _, err := os.Stat(b.Path("kubelet")); err != nil {
		if err := buildInto(ctx, b.Node, func(tmp string) error {
			return goTool(ctx, opts.Source, opts.Log, kubernetesBuildArgs(b.KubernetesVersion, tmp, nodePackages)...)
		}); err != nil {
			return err
		}
	}
	if _, err := os.Stat(b.Path("coredns")); err != nil {
		if err := buildInto(ctx, b.CoreDNS, func(tmp string) error {
			return goTool(ctx, filepath.Join(opts.Source, "coredns"), opts.Log, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(tmp, "coredns"), ".")
		}); err != nil {
			return err
		}
	}
	if _, err := os.Stat(b.Path("traefik")); b.Traefik != "" && err != nil {
		return buildInto(ctx, b.Traefik, func(tmp string) error {
			// Without cgo, as Traefik's releases are built.
			return goToolEnv(ctx, filepath.Join(opts.Source, "traefik"), opts.Log, []string{"CGO_ENABLED=0"},
				"build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(tmp, "traefik"), traefikModule+"/cmd/traefik")
		})
	}
	return nil
}

// buildInto runs build in a temporary directory beside dest and renames it
// into place, so an interrupted build never leaves a half-filled cache entry.
func buildInto(ctx context.Context, dest string, build func(tmp string) error) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := build(tmp); err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

func buildKubernetes(ctx context.Context, opts BuildOptions, version, out string) error {
	if _, _, ok := majorMinor(version); !ok {
		return fmt.Errorf("%s version %q is not vMAJOR.MINOR.PATCH", kubernetesModule, version)
	}
	return goTool(ctx, opts.Source, opts.Log, kubernetesBuildArgs(version, out, kubernetesPackages)...)
}

// kubernetesBuildArgs are the go tool's arguments that build packages of
// the hack/controlplane module into out, stamped with version.
func kubernetesBuildArgs(version, out string, packages []string) []string {
	major, minor, _ := majorMinor(version)
	// Without the stamp the server reports v0.0.0-master, which clients
	// such as kubectl and Helm fail to parse.
	ldflags := fmt.Sprintf("-s -w -X k8s.io/component-base/version.gitVersion=%s"+
		" -X k8s.io/component-base/version.gitMajor=%s -X k8s.io/component-base/version.gitMinor=%s"+
		" -X k8s.io/component-base/version.gitTreeState=clean", version, major, minor)
	return append([]string{"build", "-trimpath", "-ldflags", ldflags, "-o", out + string(filepath.Separator)}, packages...)
}

func buildKwok(ctx context.Context, opts BuildOptions, out string) error {
	dir := filepath.Join(opts.Source, "kwok")
	if err := goTool(ctx, dir, opts.Log, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(out, "kwok"), kwokModule+"/cmd/kwok"); err != nil {
		return err
	}
	var mod struct{ Dir string }
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-json", kwokModule)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, opts.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("locate the %s module: %w", kwokModule, err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &mod); err != nil {
		return fmt.Errorf("locate the %s module: %w", kwokModule, err)
	}
	return writeKwokStages(mod.Dir, filepath.Join(out, "stages.yaml"))
}

// writeKwokStages joins the stage files into one multi-document YAML; the
// separators matter: without them kwok finds no stages.
func writeKwokStages(moduleDir, dest string) error {
	var docs []string
	for _, name := range kwokStageFiles {
		data, err := os.ReadFile(filepath.Join(moduleDir, name))
		if err != nil {
			return fmt.Errorf("read kwok stage: %w", err)
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return os.WriteFile(dest, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}

func goTool(ctx context.Context, dir string, log io.Writer, args ...string) error {
	return goToolEnv(ctx, dir, log, nil, args...)
}

// goToolEnv runs the go tool in dir with env added to the environment.
func goToolEnv(ctx context.Context, dir string, log io.Writer, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	// The build modules must not see the module of whoever runs us.
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly"), env...)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s in %s: %w", strings.Join(args, " "), dir, err)
	}
	return nil
}

// pinnedVersion reads the version of module that goModPath requires.
func pinnedVersion(goModPath, module string) (string, error) {
	data, err := os.ReadFile(goModPath)
	if err != nil {
		return "", fmt.Errorf("read control-plane build module: %w", err)
	}
	f, err := modfile.ParseLax(goModPath, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", goModPath, module)
}

func majorMinor(version string) (major, minor string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// DefaultBuildOptions walks up from dir to the weir checkout that holds the
// control-plane build modules (hack/controlplane) and caches the binaries
// in that checkout's git-ignored .cache/controlplane. Outside a checkout it
// builds from the copy of those modules embedded in weir, written out into
// the user's cache directory (weir/controlplane, as os.UserCacheDir has
// it), where the binaries are cached too: `weir dev cluster` runs from any
// directory.
func DefaultBuildOptions(dir string) (BuildOptions, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return BuildOptions{}, err
	}
	if opts, ok := checkoutAbove(abs); ok {
		return opts, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	opts, err := embeddedBuildOptions(filepath.Join(base, "weir", "controlplane"))
	if err != nil {
		return opts, fmt.Errorf("write out the control plane's build modules: %w", err)
	}
	return opts, nil
}

// checkoutAbove finds the weir checkout that holds dir.
func checkoutAbove(dir string) (BuildOptions, bool) {
	for root := dir; ; root = filepath.Dir(root) {
		src := filepath.Join(root, "hack", "controlplane")
		if _, err := os.Stat(filepath.Join(src, "go.mod")); err == nil {
			return BuildOptions{Source: src, Cache: filepath.Join(root, ".cache", "controlplane")}, true
		}
		if filepath.Dir(root) == root {
			return BuildOptions{}, false
		}
	}
}
