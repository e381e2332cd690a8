package render

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
)

// errRemote refuses remote bases and files, which kustomize would fetch.
var errRemote = errors.New("remote bases and files are not supported: vendor them into the repository")

// checkKustomization refuses, before kustomize starts, what weir does not let
// it do: fetch remote bases and files, which kustomize does itself (running
// git, or over HTTP) beyond any file system confinement, and inflate Helm
// charts. It follows local bases, components, generators and transformers to
// check their kustomizations too; seen holds the directories already checked.
// On the way it records the files that secretGenerators read.
func checkKustomization(fsys *confinedFS, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	name := kustomizationFile(dir)
	if name == "" {
		if len(seen) == 1 {
			return fmt.Errorf("render %s: no kustomization.yaml, kustomization.yml or Kustomization", fsys.co.rel(dir))
		}
		return nil // Not a kustomization; kustomize reads it as it sees fit.
	}
	file := filepath.Join(dir, name)
	k, err := readKustomization(fsys, file)
	if err != nil {
		return renderError(fsys.co.rel(file), err)
	}
	refs := references(k)
	for _, ref := range refs {
		if isRemote(fsys, dir, ref.path) {
			return fmt.Errorf("render %s: %s %q: %w", fsys.co.rel(file), ref.field, ref.path, errRemote)
		}
	}
	for _, ref := range refs {
		if ref.field == secretGeneratorField {
			fsys.addSecretSource(dir, ref.path)
		}
		if err := checkNested(fsys, dir, ref, seen); err != nil {
			return err
		}
	}
	return nil
}

// readKustomization parses a kustomization file as kustomize does and
// refuses Helm charts.
func readKustomization(fsys *confinedFS, file string) (*types.Kustomization, error) {
	real, err := fsys.resolve(file)
	if err != nil {
		return nil, err
	}
	data, err := fsys.co.readFile(real)
	if err != nil {
		return nil, err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return nil, err
	}
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 || k.HelmGlobals != nil {
		return nil, errHelm
	}
	return &k, nil
}

// checkNested checks the kustomization of a directory ref names, if any.
func checkNested(fsys *confinedFS, dir string, ref reference, seen map[string]bool) error {
	if !ref.kustomization {
		return nil
	}
	real, fi, err := fsys.stat(filepath.Join(dir, ref.path))
	if err != nil || !fi.IsDir() {
		return nil // A file, or missing: kustomize reads or reports it.
	}
	return checkKustomization(fsys, real, seen)
}

// secretGeneratorField names the secretGenerator references.
const secretGeneratorField = "secretGenerator"

// reference is a path a kustomization names.
type reference struct {
	field string
	path  string
	// kustomization is set for fields that may name a directory holding
	// another kustomization.
	kustomization bool
}

// references lists the files and directories a kustomization reads, except
// inline content.
func references(k *types.Kustomization) []reference {
	var refs []reference
	add := func(field string, kustomization bool, paths ...string) {
		for _, p := range paths {
			if p != "" && !strings.Contains(p, "\n") {
				refs = append(refs, reference{field: field, path: p, kustomization: kustomization})
			}
		}
	}
	add("resources", true, k.Resources...)
	add("bases", true, k.Bases...)
	add("components", true, k.Components...)
	add("generators", true, k.Generators...)
	add("transformers", true, k.Transformers...)
	add("validators", true, k.Validators...)
	add("crds", false, k.Crds...)
	add("configurations", false, k.Configurations...)
	add("openapi", false, k.OpenAPI["path"])
	for _, p := range k.PatchesStrategicMerge {
		add("patchesStrategicMerge", false, string(p))
	}
	for _, p := range k.PatchesJson6902 {
		add("patchesJson6902", false, p.Path)
	}
	for _, p := range k.Patches {
		add("patches", false, p.Path)
	}
	for _, r := range k.Replacements {
		add("replacements", false, r.Path)
	}
	for _, g := range k.ConfigMapGenerator {
		add("configMapGenerator", false, sourcePaths(g.KvPairSources)...)
	}
	for _, g := range k.SecretGenerator {
		add(secretGeneratorField, false, sourcePaths(g.KvPairSources)...)
	}
	return refs
}

// sourcePaths lists the files a generator reads; a file source may be
// "key=path".
func sourcePaths(s types.KvPairSources) []string {
	paths := append([]string{s.EnvSource}, s.EnvSources...)
	for _, f := range s.FileSources {
		if _, p, ok := strings.Cut(f, "="); ok {
			f = p
		}
		paths = append(paths, f)
	}
	return paths
}

// scpLike matches the "user@host:" start of an scp-like Git address.
var scpLike = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would fetch ref, named in the
// kustomization in dir, instead of reading it from the checkout: a URL, a
// go-getter "git::" address, or an scp-like or github.com address that is
// not a file of the checkout (kustomize clones those with git). It errs on
// the side of refusing.
func isRemote(fsys *confinedFS, dir, ref string) bool {
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git::") {
		return true
	}
	if !scpLike.MatchString(ref) && !strings.HasPrefix(lower, "github.com/") && !strings.HasPrefix(lower, "github.com:") {
		return false
	}
	_, fi, err := fsys.stat(filepath.Join(dir, ref))
	return err != nil || !fi.Mode().IsRegular()
}
