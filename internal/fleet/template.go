package fleet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Generated is the Application rendered for one element.
type Generated struct {
	// Application is what the set applies: the template's metadata and
	// spec with the element's parameters, the set's label, the template
	// hash and the set as controller owner.
	Application *unstructured.Unstructured
	// Hash is the template hash of Application.
	Hash string
	// Element is the element it was rendered for.
	Element Element
}

// TemplateError is a template that cannot be rendered for an element, or
// elements that render to the same name: a change to the set or to its
// generators' input is needed.
type TemplateError struct{ Err error }

// Error is the underlying message.
func (e *TemplateError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TemplateError) Unwrap() error { return e.Err }

// RenderAll renders set's template for each element, in order, and
// refuses two elements whose Applications have the same name, naming both.
func RenderAll(set *weirv1.ApplicationSet, elems []Element) ([]Generated, error) {
	out := make([]Generated, len(elems))
	byName := map[string]Element{}
	for i, e := range elems {
		g, err := Render(set, e)
		if err != nil {
			return nil, err
		}
		name := g.Application.GetName()
		if other, ok := byName[name]; ok {
			return nil, &TemplateError{fmt.Errorf("%s and %s both make Application %s", other.Origin, e.Origin, name)}
		}
		byName[name] = e
		out[i] = g
	}
	return out, nil
}

// Render renders set's template for e. An error is a *TemplateError naming
// the element and the field.
func Render(set *weirv1.ApplicationSet, e Element) (Generated, error) {
	fail := func(err error) (Generated, error) {
		return Generated{}, &TemplateError{fmt.Errorf("%s: %w", e.Origin, err)}
	}
	var spec any
	if err := json.Unmarshal(set.Spec.Template.Spec.Raw, &spec); err != nil {
		return fail(fmt.Errorf("template field spec: %w", err))
	}
	m := set.Spec.Template.Metadata
	meta := map[string]any{"name": m.Name, "labels": stringMap(m.Labels), "annotations": stringMap(m.Annotations)}
	tree := map[string]any{"metadata": meta, "spec": spec}
	if err := substituteTree(tree, "", e.Params); err != nil {
		return fail(err)
	}
	if err := checkRendered(meta, spec); err != nil {
		return fail(err)
	}
	hash, err := templateHash(tree)
	if err != nil {
		return fail(err)
	}
	return Generated{Application: application(set, meta, spec, hash), Hash: hash, Element: e}, nil
}

// stringMap is m as a JSON object.
func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// substituteTree puts params into every string of v, a JSON value at the
// field path.
func substituteTree(v any, path string, params map[string]string) error {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			child := join(path, k)
			if s, ok := v[k].(string); ok {
				out, err := Substitute(s, params)
				if err != nil {
					return fmt.Errorf("template field %s: %w", child, err)
				}
				v[k] = out
				continue
			}
			if err := substituteTree(v[k], child, params); err != nil {
				return err
			}
		}
	case []any:
		for i := range v {
			child := fmt.Sprintf("%s[%d]", path, i)
			if s, ok := v[i].(string); ok {
				out, err := Substitute(s, params)
				if err != nil {
					return fmt.Errorf("template field %s: %w", child, err)
				}
				v[i] = out
				continue
			}
			if err := substituteTree(v[i], child, params); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedKeys are m's keys in order, so that the first error is always the
// same one.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Substitute replaces each {{name}} in s (spaces around name allowed) by
// the value of the parameter name. A parameter params lacks, an empty
// name or a "{{" without its "}}" is an error.
func Substitute(s string, params map[string]string) (string, error) {
	var b strings.Builder
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		end := strings.Index(s[start+2:], "}}")
		if end < 0 {
			return "", errors.New(`"{{" without "}}"`)
		}
		name := strings.TrimSpace(s[start+2 : start+2+end])
		v, ok := params[name]
		if !ok {
			return "", fmt.Errorf("no parameter %q", name)
		}
		b.WriteString(s[:start])
		b.WriteString(v)
		s = s[start+2+end+2:]
	}
}

// checkRendered refuses a rendered name, label or spec that no Application
// can have.
func checkRendered(meta map[string]any, spec any) error {
	name := meta["name"].(string)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("template field metadata.name: %q is not a valid name: %s", name, strings.Join(errs, "; "))
	}
	for k, v := range meta["labels"].(map[string]any) {
		if errs := validation.IsValidLabelValue(v.(string)); len(errs) > 0 {
			return fmt.Errorf("template field metadata.labels.%s: %q is not a valid label value: %s", k, v, strings.Join(errs, "; "))
		}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&weirv1.ApplicationSpec{}); err != nil {
		return fmt.Errorf("template field spec: %w", err)
	}
	return nil
}

// templateHash is a short hash of the rendered metadata and spec.
func templateHash(tree map[string]any) (string, error) {
	raw, err := json.Marshal(tree) // map keys are written in order
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8]), nil
}

// application is the Application to apply: the rendered metadata and spec
// in set's namespace, labelled for the set, with its template hash, and
// controlled by set.
func application(set *weirv1.ApplicationSet, meta map[string]any, spec any, hash string) *unstructured.Unstructured {
	labels := maps.Clone(meta["labels"].(map[string]any))
	labels[weirv1.ApplicationSetLabel] = set.Name
	annotations := maps.Clone(meta["annotations"].(map[string]any))
	annotations[weirv1.ApplicationSetHashAnnotation] = hash
	owner := metav1.NewControllerRef(set, weirv1.GroupVersion.WithKind("ApplicationSet"))
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": weirv1.GroupVersion.String(),
		"kind":       "Application",
		"metadata": map[string]any{
			"name":        meta["name"],
			"namespace":   set.Namespace,
			"labels":      labels,
			"annotations": annotations,
		},
		"spec": spec,
	}}
	u.SetOwnerReferences([]metav1.OwnerReference{*owner})
	return u
}
