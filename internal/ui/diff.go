package ui

import (
	"net/http"
	"strings"

	"weir.dev/weir/internal/livediff"
)

// diffBody is the live diff's page: each object that differs, its lines
// marked as added, removed or context for the stylesheet.
type diffBody struct {
	Namespace, Name string
	Revision        string
	Total           int
	Objects         []objectDiff
}

type objectDiff struct {
	Object string
	Action string
	Lines  []diffLine
}

type diffLine struct {
	Class, Text string
}

// diffPage compares the Application's desired state with the cluster as
// `weir diff` does (internal/livediff, Secret values masked), reading
// Git, its credentials and the cluster as the user.
func (s *Server) diffPage(w http.ResponseWriter, r *http.Request, sess *session) {
	app, err := getApplication(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := livediff.Diff(r.Context(), sess.cfg, sess.c, app, s.opts.Diff)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := diffBody{Namespace: app.Namespace, Name: app.Name, Revision: res.Revision, Total: len(res.Diffs)}
	for _, d := range res.Diffs {
		if d.Diff == "" {
			continue
		}
		body.Objects = append(body.Objects, objectDiff{Object: d.Object.String(), Action: string(d.Action), Lines: diffLines(d.Diff)})
	}
	s.render(w, r, sess, "diff", pageData{Title: "Diff of " + app.Namespace + "/" + app.Name, Body: body})
}

// diffLines classifies a unified diff's lines.
func diffLines(diff string) []diffLine {
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")
	out := make([]diffLine, len(lines))
	for i, l := range lines {
		class := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			class = "file"
		case strings.HasPrefix(l, "@@"):
			class = "hunk"
		case strings.HasPrefix(l, "+"):
			class = "add"
		case strings.HasPrefix(l, "-"):
			class = "del"
		}
		out[i] = diffLine{Class: class, Text: l}
	}
	return out
}
