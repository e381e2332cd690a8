package apply

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks that stand in for Secret values in diffs.
const (
	secretMask        = "***"
	changedSecretMask = "*** (changed)"
)

// lastAppliedAnnotation holds a copy of the object written by client-side
// `kubectl apply`, Secret values included.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

func isSecret(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// maskSecrets replaces every value of data and stringData of a live and an
// applied Secret with a mask; on the applied side, the mask says whether
// the value differs from the live one. Values are compared decoded, so a
// stringData value equal to the live data is unchanged.
func maskSecrets(live, applied map[string]any) {
	liveValues := secretValues(live)
	appliedValues := secretValues(applied)
	for _, field := range []string{"data", "stringData"} {
		maskValues(live, field, func(string) string { return secretMask })
		maskValues(applied, field, func(key string) string {
			if old, ok := liveValues[key]; ok && old == appliedValues[key] {
				return secretMask
			}
			return changedSecretMask
		})
	}
	maskLastApplied(live)
	maskLastApplied(applied)
}

// secretValues returns a Secret's values by key, decoded, stringData over data.
func secretValues(secret map[string]any) map[string]string {
	values := map[string]string{}
	data, _, _ := unstructured.NestedMap(secret, "data")
	for key, v := range data {
		s, _ := v.(string)
		decoded, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			decoded = []byte(s) // invalid, but still never shown
		}
		values[key] = string(decoded)
	}
	stringData, _, _ := unstructured.NestedMap(secret, "stringData")
	for key, v := range stringData {
		s, _ := v.(string)
		values[key] = s
	}
	return values
}

func maskValues(secret map[string]any, field string, mask func(key string) string) {
	values, ok := secret[field].(map[string]any)
	if !ok {
		return
	}
	for key := range values {
		values[key] = mask(key)
	}
}

func maskLastApplied(obj map[string]any) {
	annotations, _, _ := unstructured.NestedMap(obj, "metadata", "annotations")
	if _, ok := annotations[lastAppliedAnnotation]; ok {
		annotations[lastAppliedAnnotation] = secretMask
		_ = unstructured.SetNestedMap(obj, annotations, "metadata", "annotations")
	}
}
