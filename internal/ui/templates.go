package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
)

// pageNames are the pages, each a file in templates/ that defines "main"
// (the whole page's content) and "live" (the part that updates).
var pageNames = []string{"applications", "application", "diff", "rollout", "error", "login"}

var funcs = template.FuncMap{
	"query": func(base string, kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	},
	"lower":     strings.ToLower,
	"add":       func(a, b int) int { return a + b },
	"short":     shortRevision,
	"firstLine": firstLine,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"sub": func(a, b int) int { return a - b },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
