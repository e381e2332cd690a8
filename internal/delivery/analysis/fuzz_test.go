package analysis

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzSelectJSON applies arbitrary JSONPath expressions to arbitrary JSON
// documents, as a web metric does with what an endpoint answers: it must
// return a value or an error, never panic.
func FuzzSelectJSON(f *testing.F) {
	doc := `{"data": {"ok": true, "rate": 0.02, "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}], "empty": []}}`
	for _, path := range []string{
		"", ".data.ok", "{.data.ok}", "{.data.items[*].v}", "{.data.items[?(@.name==\"b\")].v}", "{.data.items[-1:]}",
		"{.data.items[0:2:1]}", "{..v}", "{range .data.items[*]}{.name}{end}", "{.data.empty[0]}", "{.data['ok']}",
		"{.data.items[1:0]}", "{.data.items[::-1]}", "{$.data}", "{.data.missing}", "{{.data}}", "{",
	} {
		f.Add([]byte(doc), path)
	}
	f.Add([]byte(`[1, 2, 3]`), "{[*]}")
	f.Add([]byte(`"text"`), ".x")
	f.Add([]byte(`null`), "{.a[0]}")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		var doc any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		_, _ = selectJSON(doc, path)
	})
}

// FuzzConditions compiles arbitrary success and failure conditions and
// judges arbitrary results with them, as Prometheus and web metrics do: no
// panic, and a judgement that is no error names a condition.
func FuzzConditions(f *testing.F) {
	p, err := newPrograms()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("result < 0.05", "", []byte(`0.02`))
	f.Add("", "result >= 0.05", []byte(`0.5`))
	f.Add("result.ok == true", "result.errors > 10", []byte(`{"ok": true, "errors": 3}`))
	f.Add("result[0] > 1", "", []byte(`[1, 2]`))
	f.Add("size(result) > 0 && result.all(x, x > 0)", "", []byte(`[1, 2, 3]`))
	f.Add("result.map(x, result.map(y, x * y)).size() > 0", "", []byte(`[1, 2, 3, 4, 5, 6, 7, 8]`))
	f.Add("'a'.repeat(100) == result", "", []byte(`"a"`))
	f.Add("result", "", []byte(`true`))
	f.Add("result + 1", "", []byte(`1`))
	f.Add("result / 0 > 1", "", []byte(`1`))
	f.Fuzz(func(t *testing.T, success, failure string, data []byte) {
		var doc any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		for kind, result := range map[providerKind]any{kindWeb: doc, kindPrometheus: number(doc)} {
			c, err := p.compile(kind, "m", success, failure)
			if err != nil {
				continue
			}
			_, reason, err := c.judge(result)
			if err == nil && !strings.Contains(reason, "Condition") {
				t.Errorf("%s metric: judged %v with %q", kind, result, reason)
			}
		}
	})
}

// number is a Prometheus metric's result for doc: a float64.
func number(doc any) float64 {
	if v, ok := doc.(float64); ok {
		return v
	}
	return 0
}

// FuzzArgs fills arbitrary templates with arbitrary arguments: every
// {{args.NAME}} with a value is replaced by it, once (a value that holds
// {{args...}} itself is not expanded again), and every other is reported
// missing.
func FuzzArgs(f *testing.F) {
	f.Add("rate{app=\"{{args.service}}\"} < {{ args.max }}", "service", "web", "max", "0.05")
	f.Add("{{args.a}}{{args.b}}{{args.c}}", "a", "{{args.b}}", "b", "{{args.a}}")
	f.Add("{{args.}} {{args.a.b-c_d}} {{ args.x }} {{args.x", "a.b-c_d", "1", "x", "")
	f.Add("{{secret.token.value}} {{args.token}}", "token", "t", "", "")
	f.Fuzz(func(t *testing.T, s, name1, value1, name2, value2 string) {
		values := map[string]string{name1: value1, name2: value2}
		r := renderer{values: values}
		out := r.text(s)
		grown := 0
		for _, v := range values {
			grown += len(v)
		}
		if matches := argPattern.FindAllStringIndex(s, -1); len(out) > len(s)+len(matches)*grown {
			t.Errorf("%q filled in is %d bytes, more than one substitution per argument can give", s, len(out))
		}
		for _, m := range argPattern.FindAllStringSubmatch(s, -1) {
			_, has := values[m[1]]
			if has == r.missing["{{args."+m[1]+"}}"] {
				t.Errorf("%q: argument %q has a value: %v, yet missing: %v", s, m[1], has, r.missing)
			}
		}
	})
}
