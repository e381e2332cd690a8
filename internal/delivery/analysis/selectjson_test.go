package analysis

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSelectJSONInANullDocumentSelectsNothing(t *testing.T) {
	for _, path := range []string{"[]", "{[0]}", "{range [*]}{end}", ".a", "{..a}"} {
		t.Run(path, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte("null"), &doc); err != nil {
				t.Fatal(err)
			}
			v, err := selectJSON(doc, path)
			if err == nil || !strings.Contains(err.Error(), "selects nothing") {
				t.Errorf("selectJSON(null, %q) = %v, %v; want an error saying it selects nothing", path, v, err)
			}
		})
	}
}
