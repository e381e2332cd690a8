package fleet

import (
	"fmt"
	"maps"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// listElements are the literal elements of a list generator; field names
// the generator in messages.
func listElements(field string, g *weirv1.ListGenerator) ([]Element, error) {
	out := make([]Element, len(g.Elements))
	for i, params := range g.Elements {
		origin := fmt.Sprintf("list element %d of %s", i, field)
		if err := checkParams(origin, len(params)); err != nil {
			return nil, err
		}
		out[i] = Element{Params: maps.Clone(params), Origin: origin}
	}
	return out, nil
}
