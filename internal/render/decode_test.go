package render

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestSplitYAML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want holds "line:data" for each document.
		want []string
	}{
		{"one document", "a: 1\n", []string{"1:a: 1\n"}},
		{"leading separator", "---\na: 1\n", []string{"1:", "2:a: 1\n"}},
		{"separator with comment", "a: 1\n--- # two\nb: 2\n", []string{"1:a: 1\n", "3:b: 2\n"}},
		{"content after separator", "a: 1\n--- {b: 2}\n", []string{"1:a: 1\n", "2: {b: 2}\n"}},
		{"document end marker", "a: 1\n...\nb: 2\n", []string{"1:a: 1\n", "3:b: 2\n"}},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []string{"1:a: 1\r\n", "3:b: 2\r\n"}},
		{"byte order mark", "\xef\xbb\xbfa: 1\n", []string{"1:a: 1\n"}},
		{"dashes in a value are not a marker", "a: |\n  ----\n  ---x\n", []string{"1:a: |\n  ----\n  ---x\n"}},
		{"no trailing newline", "a: 1\n---\nb: 2", []string{"1:a: 1\n", "3:b: 2"}},
		{"four dashes are content", "----\n", []string{"1:----\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range splitYAML([]byte(tt.in)) {
				got = append(got, strconv.Itoa(d.line)+":"+string(d.data))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("splitYAML(%q):\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeFileErrorLines(t *testing.T) {
	tests := []struct {
		name, file, in, wantErr string
	}{
		{"syntax error in second document", "a.yaml", "# first\n---\nb: 2\nc: d: e\n", "render a.yaml:4: mapping values are not allowed in this context"},
		{"error without a line", "a.yaml", "# first\n---\n\x00\n", "render a.yaml:3: control characters are not allowed"},
		{"duplicate key", "a.yaml", "---\nkind: A\nkind: B\n", `render a.yaml:3: key "kind" already set in map`},
		{"JSON syntax error", "a.json", "{\"a\": 1}\n{\"b\": }\n", "render a.json:2: invalid character '}'"},
		{"JSON truncated", "a.json", "{\"a\": \n", "render a.json:2: unexpected EOF"},
		{"scalar document", "a.yaml", "---\n--- hello\n", "render a.yaml:2: document is not an object"},
		{"List item not an object", "a.yaml", "apiVersion: v1\nkind: List\nitems: [1]\n", "render a.yaml:1: document 1: List item 1 is not an object"},
		{"List item invalid", "a.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A}\n", "render a.yaml:1: document 1: List item 1: A: missing metadata.name"},
		{"bad apiVersion", "a.yaml", "apiVersion: a/b/c\nkind: A\nmetadata: {name: x}\n", `render a.yaml:1: document 1: A: invalid apiVersion "a/b/c"`},
		{"metadata not an object", "a.yaml", "apiVersion: v1\nkind: A\nmetadata: [x]\n", "render a.yaml:1: document 1: A: metadata is not an object"},
		{"missing apiVersion", "a.yaml", "kind: A\nmetadata: {name: x}\n", "render a.yaml:1: document 1: missing apiVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector(10)
			err := decodeFile(tt.file, []byte(tt.in), c.from(tt.file))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeFileTypes(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {date: 2024-01-02}}\nspec: {count: 3, ratio: 1.5, enabled: true, empty: null}\n"
	c := newCollector(10)
	if err := decodeFile("a.yaml", []byte(in), c.from("a.yaml")); err != nil {
		t.Fatal(err)
	}
	obj := c.objs[0]
	// As kubectl reads YAML: whole numbers are int64, dates stay strings.
	spec := obj.Object["spec"].(map[string]any)
	if _, ok := spec["count"].(int64); !ok {
		t.Errorf("count is %T, want int64", spec["count"])
	}
	if got := obj.GetAnnotations()["date"]; got != "2024-01-02" {
		t.Errorf("annotation = %q, want the date as written", got)
	}
	_ = obj.DeepCopy() // Panics on values that are not JSON-compatible.
}
