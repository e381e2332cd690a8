package gitwrite

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// binaryProbe is how much of a file is searched for a NUL byte, as Git
// does, to tell binary content from text.
const binaryProbe = 8000

// isBinary reports whether b looks like binary content, which is never
// merged line by line.
func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), binaryProbe)], 0) >= 0
}

// mergeText combines the changes from base to ours and from base to theirs,
// line by line, as Git's three-way merge does: changes to separate lines
// both apply, identical changes apply once, and different changes to the
// same or adjacent lines conflict, which it reports with ok false.
func mergeText(base, ours, theirs []byte) (merged []byte, ok bool) {
	b, o, t := splitLines(base), splitLines(ours), splitLines(theirs)
	lines, ok := mergeLines(b, diffLines(b, o), diffLines(b, t))
	if !ok {
		return nil, false
	}
	return []byte(strings.Join(lines, "")), true
}

// splitLines cuts s after each newline; a last line without one is kept.
func splitLines(b []byte) []string {
	s := string(b)
	var lines []string
	for s != "" {
		i := strings.IndexByte(s, '\n') + 1
		if i == 0 {
			i = len(s)
		}
		lines = append(lines, s[:i])
		s = s[i:]
	}
	return lines
}

// hunk is one change of a diff: the base lines [start, end) replaced by
// lines (an insertion when start == end, a deletion when lines is empty).
type hunk struct {
	start, end int
	lines      []string
}

// diffLines lists the changes from base to other, in order, each separated
// from the next by at least one unchanged line.
func diffLines(base, other []string) []hunk {
	a, b := lineRunes(base, other)
	dmp := diffmatchpatch.New()
	var hunks []hunk
	var cur *hunk
	i, j := 0, 0 // next line of base, of other
	for _, d := range dmp.DiffMainRunes(a, b, false) {
		n := utf8.RuneCountInString(d.Text)
		if d.Type == diffmatchpatch.DiffEqual {
			cur = nil
			i, j = i+n, j+n
			continue
		}
		if cur == nil {
			hunks = append(hunks, hunk{start: i, end: i})
			cur = &hunks[len(hunks)-1]
		}
		if d.Type == diffmatchpatch.DiffDelete {
			i += n
			cur.end = i
		} else {
			cur.lines = append(cur.lines, other[j:j+n]...)
			j += n
		}
	}
	return hunks
}

// lineRunes numbers the distinct lines of a and b and spells each as a
// string of runes, one per line, for a character diff to compare. The
// numbers skip the UTF-16 surrogates, which are not valid runes and would
// not survive the diff's conversions to string.
func lineRunes(a, b []string) ([]rune, []rune) {
	ids := map[string]rune{}
	spell := func(lines []string) []rune {
		rs := make([]rune, len(lines))
		for k, l := range lines {
			r, ok := ids[l]
			if !ok {
				r = rune(len(ids))
				if r >= 0xD800 {
					r += 0x800
				}
				ids[l] = r
			}
			rs[k] = r
		}
		return rs
	}
	return spell(a), spell(b)
}

// mergeLines applies the hunks of two diffs of base. Overlapping or
// touching hunks of the two sides form a group, which merges only if both
// sides make the same change there.
func mergeLines(base []string, ours, theirs []hunk) ([]string, bool) {
	var out []string
	pos := 0 // next base line to copy
	for len(ours) > 0 || len(theirs) > 0 {
		var g group
		g, ours, theirs = nextGroup(ours, theirs)
		out = append(out, base[pos:g.start]...)
		switch {
		case len(g.theirs) == 0:
			out = append(out, apply(base, g.start, g.end, g.ours)...)
		case len(g.ours) == 0:
			out = append(out, apply(base, g.start, g.end, g.theirs)...)
		default:
			o := apply(base, g.start, g.end, g.ours)
			if !slices.Equal(o, apply(base, g.start, g.end, g.theirs)) {
				return nil, false
			}
			out = append(out, o...)
		}
		pos = g.end
	}
	return append(out, base[pos:]...), true
}

// group is a region [start, end) of base and the hunks of each side in it.
type group struct {
	start, end   int
	ours, theirs []hunk
}

// nextGroup takes the first hunk of either side and every hunk of both
// sides that overlaps or touches it, or touches one taken, and returns
// them with the hunks left over.
func nextGroup(ours, theirs []hunk) (group, []hunk, []hunk) {
	var g group
	if len(theirs) == 0 || len(ours) > 0 && ours[0].start <= theirs[0].start {
		g = group{start: ours[0].start, end: ours[0].end, ours: []hunk{ours[0]}}
		ours = ours[1:]
	} else {
		g = group{start: theirs[0].start, end: theirs[0].end, theirs: []hunk{theirs[0]}}
		theirs = theirs[1:]
	}
	for {
		switch {
		case len(ours) > 0 && ours[0].start <= g.end:
			g.ours = append(g.ours, ours[0])
			g.end = max(g.end, ours[0].end)
			ours = ours[1:]
		case len(theirs) > 0 && theirs[0].start <= g.end:
			g.theirs = append(g.theirs, theirs[0])
			g.end = max(g.end, theirs[0].end)
			theirs = theirs[1:]
		default:
			return g, ours, theirs
		}
	}
}

// apply returns base[start:end] with the hunks, which lie within it,
// applied.
func apply(base []string, start, end int, hunks []hunk) []string {
	var out []string
	pos := start
	for _, h := range hunks {
		out = append(out, base[pos:h.start]...)
		out = append(out, h.lines...)
		pos = h.end
	}
	return append(out, base[pos:end]...)
}
