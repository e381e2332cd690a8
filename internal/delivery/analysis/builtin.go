package analysis

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"weir.dev/weir/api/v1alpha1"
)

// builtinFiles are the templates weir ships, one AnalysisTemplate per file,
// named for the template; each file documents the args it needs.
//
//go:embed builtin/*.yaml
var builtinFiles embed.FS

var builtins = sync.OnceValues(loadBuiltins)

// Builtins returns the names of the built-in templates, sorted.
func Builtins() []string {
	all, err := builtins()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// builtinTemplate returns a copy of a built-in template's spec.
func builtinTemplate(name string) (*v1alpha1.AnalysisTemplateSpec, error) {
	all, err := builtins()
	if err != nil {
		return nil, err
	}
	t, ok := all[name]
	if !ok {
		return nil, fmt.Errorf("built-in analysis template %q does not exist; there are %s", name, strings.Join(Builtins(), ", "))
	}
	return t.Spec.DeepCopy(), nil
}

func loadBuiltins() (map[string]*v1alpha1.AnalysisTemplate, error) {
	files, err := builtinFiles.ReadDir("builtin")
	if err != nil {
		return nil, err
	}
	all := make(map[string]*v1alpha1.AnalysisTemplate, len(files))
	for _, f := range files {
		file := path.Join("builtin", f.Name())
		data, err := builtinFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		t := &v1alpha1.AnalysisTemplate{}
		if err := yaml.UnmarshalStrict(data, t); err != nil {
			return nil, fmt.Errorf("built-in analysis template %s: %w", file, err)
		}
		if want := strings.TrimSuffix(f.Name(), ".yaml"); t.Name != want {
			return nil, fmt.Errorf("built-in analysis template %s is named %q, not %q", file, t.Name, want)
		}
		all[t.Name] = t
	}
	return all, nil
}
