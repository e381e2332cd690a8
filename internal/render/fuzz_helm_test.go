package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	release "helm.sh/helm/v4/pkg/release/v1"
)

// fuzzTemplate renders what the fuzzed values hold: ConfigMaps from a map
// of maps, and raw text into the manifest.
const fuzzTemplate = `{{- range $name, $data := .Values.configMaps }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name | quote }}
data: {{ toYaml $data | nindent 2 }}
{{- end }}
---
{{ .Values.raw }}
`

// FuzzRenderHelm renders a chart whose Chart.yaml, values.yaml and values
// file are arbitrary, over a fixed template that turns values into
// objects. Render must not panic, must fail with an error that names the
// chart, and must return only valid objects.
func FuzzRenderHelm(f *testing.F) {
	f.Add([]byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), []byte("configMaps: {a: {k: v}}\n"), []byte("raw: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: n}'\n"))
	f.Add([]byte("apiVersion: v2\nname: c\nversion: 0.1.0\ntype: library\n"), []byte{}, []byte{})
	f.Add([]byte("apiVersion: v1\nname: c\nversion: 1\ndependencies: [{name: d, version: 1}]\n"), []byte("a: &a [*a]\n"), []byte("configMaps: 3\n"))

	// The checkout holds the chart in chart/ and a values file beside it.
	root := f.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "chart", "templates"), 0o755); err != nil {
		f.Fatal(err)
	}
	writeFile(f, filepath.Join(root, "chart", "templates", "objects.yaml"), fuzzTemplate)
	opts := Options{Type: TypeHelm, Helm: &Helm{ValuesFiles: []string{"../values.yaml"}}, MaxObjects: 100, MaxFileBytes: 1 << 16, MaxOutputBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, chartYAML, values, valuesFile []byte) {
		writeFile(t, filepath.Join(root, "chart", "Chart.yaml"), string(chartYAML))
		writeFile(t, filepath.Join(root, "chart", "values.yaml"), string(values))
		writeFile(t, filepath.Join(root, "values.yaml"), string(valuesFile))
		objs, err := Render(t.Context(), root, "chart", opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "render ") {
				t.Errorf("error does not say what it rendered: %v", err)
			}
			return
		}
		checkObjects(t, objs)
	})
}

// FuzzSplitManifest decodes an arbitrary release manifest as Helm's
// output. It must not panic, each template must name its source, and an
// error must name a source the manifest holds.
func FuzzSplitManifest(f *testing.F) {
	f.Add("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n# Source: c/templates/a.yaml\n---\n# Source: \n")
	f.Fuzz(func(t *testing.T, manifest string) {
		for _, tpl := range splitManifest(manifest) {
			if tpl.source == "" || strings.Contains(tpl.source, "\n") || !strings.Contains(manifest, tpl.source) {
				t.Errorf("template source %q is not a line of the manifest", tpl.source)
			}
		}
		objs, err := collectRelease(&release.Release{Manifest: manifest}, 100)
		if err != nil {
			source, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "render "), ":")
			if !strings.HasPrefix(err.Error(), "render ") || !strings.Contains(manifest, sourcePrefix+source) && !strings.Contains(manifest, source) {
				t.Errorf("error does not name a template of the manifest: %v", err)
			}
			return
		}
		checkObjects(t, objs)
	})
}
