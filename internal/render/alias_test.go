package render

import (
	"strings"
	"testing"
	"time"
)

// TestRenderRefusesAliasBombs renders a file of nested YAML aliases, 357
// bytes that stand for 111,111 nodes, through every path that parses YAML.
// Kustomize used to expand it in its build, taking over a second and a
// quarter of a gigabyte, and a level more takes ten times both; each render
// must refuse it before anything expands it, naming the file and line.
func TestRenderRefusesAliasBombs(t *testing.T) {
	for _, tc := range []struct {
		path string
		opts Options
		want string
		why  string
	}{
		{path: "kustomize-resource", want: "render kustomize-resource: kustomize-resource/bomb.yaml: line 11: "},
		{path: "kustomize-patch", want: "render kustomize-patch: kustomize-patch/patch.yaml: line 9: "},
		{path: "plain", want: "render plain/bomb.yaml: line 11: "},
		{path: "helm-chart", opts: Options{Type: TypeHelm}, want: "render helm-chart/values.yaml: line 5: "},
		{
			path: "helm-values",
			opts: Options{Type: TypeHelm, Helm: &Helm{Chart: "chart", ValuesFiles: []string{"bomb-values.yaml"}}},
			want: "render helm-values: valuesFiles[0]: helm-values/bomb-values.yaml: line 5: ",
		},
		// Helm parses its output before handing it over, with the
		// bound of sigs.k8s.io/yaml.
		{path: "helm-output", opts: Options{Type: TypeHelm}, want: "render helm-output: helm: YAML parse error on helm-output/templates/web.yaml: ", why: "excessive aliasing"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			tc.opts.Timeout = time.Second
			if tc.why == "" {
				tc.why = "YAML aliases expand to more than 10000 nodes"
			}
			_, err := Render(t.Context(), "testdata/alias-bomb", tc.path, tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Render = %v, want an error starting %q saying %q", err, tc.want, tc.why)
			}
		})
	}
}
