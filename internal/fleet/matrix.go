package fleet

import (
	"fmt"
	"maps"
)

// product is every pair of an element of a and one of b, with the
// parameters of both: at most MaxElements pairs, and a parameter both give
// with different values is an error naming both elements.
func product(a, b []Element) ([]Element, error) {
	if len(a)*len(b) > MaxElements {
		return nil, fmt.Errorf("the matrix has %d×%d elements, more than %d", len(a), len(b), MaxElements)
	}
	out := make([]Element, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			params := maps.Clone(x.Params)
			for k, v := range y.Params {
				if w, ok := params[k]; ok && w != v {
					return nil, fmt.Errorf("%s and %s give parameter %q different values", x.Origin, y.Origin, k)
				}
				params[k] = v
			}
			origin := x.Origin + " × " + y.Origin
			if err := checkParams(origin, len(params)); err != nil {
				return nil, err
			}
			out = append(out, Element{Params: params, Origin: origin})
		}
	}
	return out, nil
}
