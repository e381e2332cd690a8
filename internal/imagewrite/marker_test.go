package imagewrite

import (
	"strings"
	"testing"
)

func TestParseMarker(t *testing.T) {
	for _, tc := range []struct {
		comment string
		want    Marker
		ok      bool
	}{
		{`# {"$imagepolicy": "apps:web"}`, Marker{Namespace: "apps", Name: "web"}, true},
		{`#{"$imagepolicy":"apps:web:tag"}`, Marker{Namespace: "apps", Name: "web", Field: FieldTag}, true},
		{`{"$imagepolicy": "apps:web:name"}`, Marker{Namespace: "apps", Name: "web", Field: FieldName}, true},
		{`# {"$imagepolicy": "apps:web:digest"}`, Marker{}, false},
		{`# {"$imagepolicy": "web"}`, Marker{}, false},
		{`# {"$imagepolicy": ":web"}`, Marker{}, false},
		{`# {"$imagepolicy": "a:b:tag:x"}`, Marker{}, false},
		{`# {"$imagepolicy": 3}`, Marker{}, false},
		{`# {"$setter": "apps:web"}`, Marker{}, false},
		{`# the $imagepolicy of web`, Marker{}, false},
	} {
		got, ok := ParseMarker(tc.comment)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseMarker(%q) = %+v, %v; want %+v, %v", tc.comment, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseMarker checks that any comment parses or is refused without a
// panic, and that a marker it accepts names a namespace and a name.
func FuzzParseMarker(f *testing.F) {
	f.Add(`# {"$imagepolicy": "apps:web"}`)
	f.Add(`# {"$imagepolicy": "apps:web:tag"}`)
	f.Fuzz(func(t *testing.T, comment string) {
		m, ok := ParseMarker(comment)
		if !ok {
			return
		}
		if m.Namespace == "" || m.Name == "" || strings.Contains(m.Name, ":") {
			t.Errorf("ParseMarker(%q) = %+v", comment, m)
		}
		if m.Field != FieldImage && m.Field != FieldTag && m.Field != FieldName {
			t.Errorf("ParseMarker(%q) field %q", comment, m.Field)
		}
	})
}

// FuzzSetImages checks that any document is rewritten or refused without
// a panic, and that a rewrite is stable.
func FuzzSetImages(f *testing.F) {
	f.Add(string(readFile(f, "deployment.yaml")))
	f.Add(string(readFile(f, "kustomization.yaml")))
	f.Fuzz(func(t *testing.T, doc string) {
		out, changed, err := SetImages([]byte(doc), []Image{web150})
		if err != nil || !changed {
			return
		}
		if _, again, err := SetImages(out, []Image{web150}); err != nil || again {
			t.Errorf("second SetImages of %q: changed %v, %v", out, again, err)
		}
	})
}
