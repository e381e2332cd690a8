package render

import (
	"slices"
	"strconv"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// sourcePrefix starts the comment Helm writes above each rendered template
// in a release manifest: "# Source: <chart>/templates/<file>".
const sourcePrefix = "# Source: "

// releaseBytes is the size of the text a render produced.
func releaseBytes(rel *release.Release) int64 {
	n := int64(len(rel.Manifest))
	for _, h := range rel.Hooks {
		n += int64(len(h.Manifest))
	}
	return n
}

// collectRelease decodes a release's manifest and the hooks weir applies.
// Errors name the template, as "web/templates/deployment.yaml:3", the line
// counted in the template's output.
func collectRelease(rel *release.Release, limit int) ([]*unstructured.Unstructured, error) {
	c := newCollector(limit)
	for _, t := range splitManifest(rel.Manifest) {
		if err := decodeFile(t.source, []byte(t.text), c.from(t.source)); err != nil {
			return nil, err
		}
	}
	for _, h := range rel.Hooks {
		wave, ok := hookWave(h)
		if !ok {
			continue
		}
		add := c.from(h.Path)
		err := decodeFile(h.Path, []byte(h.Manifest), func(obj map[string]any, line int) error {
			setDefaultWave(obj, wave)
			return add(obj, line)
		})
		if err != nil {
			return nil, err
		}
	}
	return c.objs, nil
}

// template is the output of one template in a release manifest.
type template struct {
	source string
	text   string
}

// splitManifest cuts a release manifest at the "# Source:" comment that
// Helm writes above each of its documents. Consecutive documents of one
// template are joined again, so that lines and document numbers count
// within the template's output.
func splitManifest(manifest string) []template {
	var out []template
	for _, part := range strings.Split("\n"+manifest, "\n---\n"+sourcePrefix) {
		source, text, _ := strings.Cut(part, "\n")
		if source = strings.TrimSpace(source); source == "" {
			continue
		}
		if last := len(out) - 1; last >= 0 && out[last].source == source {
			out[last].text += "---\n" + text
			continue
		}
		out = append(out, template{source: source, text: text})
	}
	return out
}

// hookWave maps a Helm hook to the sync wave weir applies it in, and
// reports false for hooks weir leaves out: tests, and hooks that run only
// on delete or rollback, which weir never performs.
func hookWave(h *release.Hook) (int, bool) {
	switch {
	case slices.Contains(h.Events, release.HookTest):
		return 0, false
	case slices.Contains(h.Events, release.HookPreInstall), slices.Contains(h.Events, release.HookPreUpgrade):
		return PreHookWave + h.Weight, true
	case slices.Contains(h.Events, release.HookPostInstall), slices.Contains(h.Events, release.HookPostUpgrade):
		return PostHookWave + h.Weight, true
	default:
		return 0, false
	}
}

// setDefaultWave sets the sync-wave annotation of obj unless the chart set
// one itself.
func setDefaultWave(obj map[string]any, wave int) {
	u := &unstructured.Unstructured{Object: obj}
	annotations := u.GetAnnotations()
	if _, ok := annotations[v1alpha1.SyncWaveAnnotation]; ok {
		return
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[v1alpha1.SyncWaveAnnotation] = strconv.Itoa(wave)
	u.SetAnnotations(annotations)
}
