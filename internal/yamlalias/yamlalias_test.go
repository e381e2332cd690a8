package yamlalias

import (
	"errors"
	"strings"
	"testing"
)

// bomb returns a YAML file of levels nested anchors, each naming the one
// before it ten times: 10^levels nodes once expanded.
func bomb(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		ref := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		b.WriteString(strings.TrimSuffix(strings.Repeat(ref+", ", 10), ", ") + "]\n")
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     string
		wantLine int
		cycle    bool
	}{
		{name: "no aliases", data: "apiVersion: v1\nkind: ConfigMap\n"},
		{name: "star in a string", data: "schedule: '*/5 * * * *'\nverbs: ['*']\n"},
		{name: "small reuse", data: "base: &b {cpu: 1, memory: 2}\na: *b\nb: *b\n"},
		{name: "merge keys", data: "base: &b {cpu: 1}\na:\n  <<: *b\n  memory: 2\n"},
		{name: "three levels", data: bomb(3)},
		{name: "not YAML", data: "a: *undefined\n: ["},
		{name: "bomb", data: bomb(9), wantLine: 4},
		{name: "bomb in second document", data: "a: b\n---\n" + bomb(6), wantLine: 6},
		{name: "alias inside its anchor", data: "a: &a [x, *a]\n", wantLine: 1, cycle: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.data))
			if tc.wantLine == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Check = %v, want an *Error", err)
			}
			if e.Line != tc.wantLine || e.Cycle != tc.cycle {
				t.Errorf("Check = %+v, want line %d, cycle %v", e, tc.wantLine, tc.cycle)
			}
		})
	}
}

// TestAdded counts what aliases add, and nothing for a '*' that is no
// alias.
func TestAdded(t *testing.T) {
	for _, tc := range []struct {
		data string
		want int
	}{
		{"apiVersion: v1\nkind: ConfigMap\n", 0},
		{"schedule: '*/5 * * * *'\nverbs: ['*']\n", 0},
		{"name: &n web\nlabel: *n\n", 1},
		{"base: &b {cpu: 1, memory: 2}\na: *b\nb: *b\n", 10},
		{"a: b\n---\nbase: &b [x]\nc: *b\n", 2},
	} {
		if got, err := Added([]byte(tc.data)); err != nil || got != tc.want {
			t.Errorf("Added(%q) = %d, %v; want %d", tc.data, got, err, tc.want)
		}
	}
	if _, err := Added([]byte(bomb(9))); err == nil {
		t.Error("Added of a bomb succeeded")
	}
}

func BenchmarkCheckBomb(b *testing.B) {
	data := []byte(bomb(9))
	b.ReportAllocs()
	for b.Loop() {
		if Check(data) == nil {
			b.Fatal("bomb accepted")
		}
	}
}
