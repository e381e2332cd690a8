package imagewrite

import (
	"encoding/json"
	"strings"
)

// markerKey is the key of a marker's JSON object, Flux's.
const markerKey = "$imagepolicy"

// Field is what a marked scalar holds of an image.
type Field string

// Fields of a marker.
const (
	// FieldImage is the whole reference, repository:tag.
	FieldImage Field = ""
	// FieldTag is the tag alone.
	FieldTag Field = "tag"
	// FieldName is the repository alone.
	FieldName Field = "name"
)

// Marker is a parsed `{"$imagepolicy": "NAMESPACE:NAME[:FIELD]"}` comment.
type Marker struct {
	Namespace, Name string
	Field           Field
}

// ParseMarker reads a YAML line comment ("# {...}", the hash optional).
// It reports false for any comment that is not a well-formed marker:
// another comment, bad JSON, or a value that is not NAMESPACE:NAME with an
// optional :tag or :name.
func ParseMarker(comment string) (Marker, bool) {
	c := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(c, "{") || !strings.Contains(c, markerKey) {
		return Marker{}, false
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(c), &obj); err != nil {
		return Marker{}, false
	}
	v, ok := obj[markerKey]
	if !ok {
		return Marker{}, false
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Marker{}, false
	}
	m := Marker{Namespace: parts[0], Name: parts[1]}
	if len(parts) == 3 {
		m.Field = Field(parts[2])
		if m.Field != FieldTag && m.Field != FieldName {
			return Marker{}, false
		}
	}
	return m, true
}
