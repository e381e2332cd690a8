package render

import (
	"slices"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		if !appliedHook(h) {
			continue
		}
		if err := decodeFile(h.Path, []byte(h.Manifest), c.from(h.Path)); err != nil {
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

// appliedHook reports whether weir applies a Helm hook: tests, and hooks
// that run only on delete or rollback, which weir never performs, are left
// out. The hook keeps its helm.sh/hook annotations, which the apply stage
// reads to run it before or after the rest (package apply, Directives).
func appliedHook(h *release.Hook) bool {
	if slices.Contains(h.Events, release.HookTest) {
		return false
	}
	return slices.ContainsFunc(h.Events, func(e release.HookEvent) bool {
		return e == release.HookPreInstall || e == release.HookPreUpgrade || e == release.HookPostInstall || e == release.HookPostUpgrade
	})
}
