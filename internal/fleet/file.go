package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"sigs.k8s.io/yaml"

	"weir.dev/weir/internal/yamlalias"
)

// ParseFile reads the elements of a Git generator's file: a JSON or YAML
// document holding an object (one element) or a list of objects (one
// element each). Nested fields are joined with dots ("region.name"), items
// of lists by their index ("hosts.0"); numbers and booleans are written as
// JSON writes them, and null as "". An element with more than
// MaxParameters parameters is refused, as is YAML whose aliases expand
// beyond yamlalias.MaxAddedNodes.
func ParseFile(data []byte) ([]map[string]string, error) {
	if err := yamlalias.Check(data); err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	items, ok := doc.([]any)
	if !ok {
		items = []any{doc}
	}
	if len(items) > MaxElements {
		return nil, fmt.Errorf("a list of more than %d items", MaxElements)
	}
	out := make([]map[string]string, len(items))
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, errors.New("not an object or a list of objects")
		}
		out[i] = map[string]string{}
		if err := flatten(out[i], "", obj); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return out, nil
}

// errTooManyParams stops a flatten past MaxParameters.
var errTooManyParams = fmt.Errorf("more than %d parameters", MaxParameters)

// flatten writes the scalars under v into params, their keys prefixed.
func flatten(params map[string]string, prefix string, v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if err := flatten(params, join(prefix, k), child); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, child := range v {
			if err := flatten(params, join(prefix, strconv.Itoa(i)), child); err != nil {
				return err
			}
		}
		return nil
	}
	if len(params) >= MaxParameters {
		return errTooManyParams
	}
	params[prefix] = scalar(v)
	return nil
}

// join appends a key to a dotted prefix.
func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// scalar writes a JSON scalar as a parameter value.
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
