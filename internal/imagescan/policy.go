package imagescan

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Order is how a numerical or alphabetical policy ranks tags.
type Order string

// Orders of a numerical or alphabetical policy.
const (
	// Ascending selects the greatest tag.
	Ascending Order = "asc"
	// Descending selects the least tag.
	Descending Order = "desc"
)

// Policy says which tag is the latest. Exactly one of Semver, Numerical
// and Alphabetical is set.
type Policy struct {
	// Semver is a range (Masterminds syntax, ">=1.0.0 <2.0.0", "~1.4");
	// the highest version in it is selected. Tags that are not versions
	// are skipped.
	Semver string
	// Numerical ranks tags as numbers (integers or decimals); tags that
	// are not numbers are skipped.
	Numerical Order
	// Alphabetical ranks tags by their bytes, as Go's string order.
	Alphabetical Order
	// Filter, when set, keeps only the tags it matches.
	Filter string
	// Extract, with Filter, replaces each kept tag by the expansion of
	// this template (regexp.Expand: "$ts", "${version}") before ranking;
	// the selected tag is still the whole tag.
	Extract string
}

// Selector is a compiled Policy.
type Selector struct {
	filter  *regexp.Regexp
	extract string
	rank    ranker
}

// ranker says whether a ranks above b, on extracted values; parse keeps
// only the values it can rank.
type ranker interface {
	parse(value string) (any, bool)
	above(a, b any) bool
}

// ErrNoTag is returned by Select when no tag passes the policy.
var ErrNoTag = errors.New("no tag matches the policy")

// Compile checks p and returns its Selector. Errors name the field.
func Compile(p Policy) (*Selector, error) {
	s := &Selector{extract: p.Extract}
	if p.Filter != "" {
		re, err := regexp.Compile(p.Filter)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", p.Filter, err)
		}
		s.filter = re
	} else if p.Extract != "" {
		return nil, errors.New("extract needs a filter whose groups it names")
	}
	rank, err := p.ranker()
	if err != nil {
		return nil, err
	}
	s.rank = rank
	return s, nil
}

// ranker returns the ranker of the one policy p sets.
func (p Policy) ranker() (ranker, error) {
	set := 0
	var r ranker
	if p.Semver != "" {
		c, err := semver.NewConstraint(p.Semver)
		if err != nil {
			return nil, fmt.Errorf("semver range %q: %w", p.Semver, err)
		}
		set, r = set+1, semverRank{c}
	}
	for _, o := range []struct {
		name  string
		order Order
		base  func(desc bool) ranker
	}{
		{"numerical", p.Numerical, func(desc bool) ranker { return numericRank{desc} }},
		{"alphabetical", p.Alphabetical, func(desc bool) ranker { return alphaRank{desc} }},
	} {
		switch o.order {
		case "":
			continue
		case Ascending, Descending:
			set, r = set+1, o.base(o.order == Descending)
		default:
			return nil, fmt.Errorf("%s order %q: must be asc or desc", o.name, o.order)
		}
	}
	if set != 1 {
		return nil, errors.New("exactly one of semver, numerical and alphabetical must be set")
	}
	return r, nil
}

// Select returns the latest of tags by the policy, or ErrNoTag. Ties (two
// tags that rank the same) go to the lesser tag in Go's string order, so
// that the result does not depend on the order of tags.
func (s *Selector) Select(tags []string) (string, error) {
	var best string
	var bestValue any
	for _, tag := range tags {
		value, ok := s.value(tag)
		if !ok {
			continue
		}
		if bestValue == nil || s.rank.above(value, bestValue) ||
			(!s.rank.above(bestValue, value) && tag < best) {
			best, bestValue = tag, value
		}
	}
	if bestValue == nil {
		return "", ErrNoTag
	}
	return best, nil
}

// value is what tag is ranked on, and whether it passes the filter and
// parses.
func (s *Selector) value(tag string) (any, bool) {
	v := tag
	if s.filter != nil {
		m := s.filter.FindStringSubmatchIndex(tag)
		if m == nil {
			return nil, false
		}
		if s.extract != "" {
			v = string(s.filter.ExpandString(nil, s.extract, tag, m))
		}
	}
	return s.rank.parse(v)
}

// semverRank ranks versions within a range.
type semverRank struct{ c *semver.Constraints }

func (r semverRank) parse(v string) (any, bool) {
	ver, err := semver.NewVersion(v)
	if err != nil || !r.c.Check(ver) {
		return nil, false
	}
	return ver, true
}

func (semverRank) above(a, b any) bool { return a.(*semver.Version).GreaterThan(b.(*semver.Version)) }

// numericRank ranks numbers.
type numericRank struct{ desc bool }

func (numericRank) parse(v string) (any, bool) {
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil && v != "" && !strings.ContainsAny(v, "xXpPnNiI_")
}

func (r numericRank) above(a, b any) bool {
	if r.desc {
		return a.(float64) < b.(float64)
	}
	return a.(float64) > b.(float64)
}

// alphaRank ranks strings by their bytes.
type alphaRank struct{ desc bool }

func (alphaRank) parse(v string) (any, bool) { return v, true }

func (r alphaRank) above(a, b any) bool {
	if r.desc {
		return a.(string) < b.(string)
	}
	return a.(string) > b.(string)
}
