package apply

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// Stages splits a set into the order it is applied in: first its
// CustomResourceDefinitions and Namespaces, then one stage per sync wave
// (annotation "weir.dev/sync-wave", an integer, 0 when absent), lowest wave
// first. Objects keep their order within a stage; empty stages are left
// out. The error names every object whose wave is not an integer.
func Stages(objs []*unstructured.Unstructured) ([][]*unstructured.Unstructured, error) {
	var (
		first []*unstructured.Unstructured
		waves = map[int][]*unstructured.Unstructured{}
		errs  []*ObjectError
	)
	for _, obj := range objs {
		wave, err := Wave(obj)
		switch {
		case err != nil:
			errs = append(errs, objectError(obj, err))
		case isCRD(obj) || isNamespace(obj):
			first = append(first, obj)
		default:
			waves[wave] = append(waves[wave], obj)
		}
	}
	if err := setError("stages", len(objs), errs); err != nil {
		return nil, err
	}
	var stages [][]*unstructured.Unstructured
	if len(first) > 0 {
		stages = append(stages, first)
	}
	for _, wave := range slices.Sorted(maps.Keys(waves)) {
		stages = append(stages, waves[wave])
	}
	return stages, nil
}

// Wave returns obj's sync wave: the integer in its "weir.dev/sync-wave"
// annotation, or 0 without one.
func Wave(obj *unstructured.Unstructured) (int, error) {
	value, ok := obj.GetAnnotations()[v1alpha1.SyncWaveAnnotation]
	if !ok {
		return 0, nil
	}
	wave, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil {
		return 0, fmt.Errorf("annotation %s: %q is not an integer", v1alpha1.SyncWaveAnnotation, value)
	}
	return wave, nil
}
