package fleet

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

func TestParseFile(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []map[string]string
		err  string
	}{
		{"yaml object", "cluster: eu-1\nregion:\n  name: europe\n  zone: 2\n",
			[]map[string]string{{"cluster": "eu-1", "region.name": "europe", "region.zone": "2"}}, ""},
		{"json object", `{"cluster": "eu-1", "prod": true, "weight": 1.5, "owner": null}`,
			[]map[string]string{{"cluster": "eu-1", "prod": "true", "weight": "1.5", "owner": ""}}, ""},
		{"list of objects", "- cluster: eu-1\n- cluster: us-1\n  hosts: [a, b]\n",
			[]map[string]string{{"cluster": "eu-1"}, {"cluster": "us-1", "hosts.0": "a", "hosts.1": "b"}}, ""},
		{"large numbers stay exact", "id: 12345678901234567890\n", []map[string]string{{"id": "12345678901234567890"}}, ""},
		{"scalar", "just text\n", nil, "not an object or a list of objects"},
		{"list of scalars", "- a\n- b\n", nil, "not an object or a list of objects"},
		{"not yaml", "a: [b\n", nil, "yaml"},
		{"alias bomb", aliasBomb(), nil, "YAML aliases expand"},
		{"too many parameters", manyKeys(MaxParameters + 1), nil, fmt.Sprintf("item 0: more than %d parameters", MaxParameters)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile([]byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if !maps.Equal(got[i], tt.want[i]) {
					t.Errorf("element %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: v\n", i)
	}
	return b.String()
}

// aliasBomb is a billion laughs of YAML aliases.
func aliasBomb() string {
	s := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		s += fmt.Sprintf("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	return s
}

// FuzzParseFile: no file panics the parser, and every element it returns
// is within MaxParameters.
func FuzzParseFile(f *testing.F) {
	for _, s := range []string{"a: b\n", `[{"a": {"b": [1, 2]}}]`, "- x: 1\n- y: [a, {b: c}]\n", "a: &x [1]\nb: *x\n", "{}", "null", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, err := ParseFile(data)
		if err != nil {
			return
		}
		if len(elems) > MaxElements {
			t.Fatalf("%d elements", len(elems))
		}
		for _, e := range elems {
			if len(e) > MaxParameters {
				t.Fatalf("%d parameters", len(e))
			}
		}
	})
}
