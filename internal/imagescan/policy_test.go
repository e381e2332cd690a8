package imagescan

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// fixtureTags are the tags of testdata/tags.txt.
func fixtureTags(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/tags.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func TestSelect(t *testing.T) {
	tags := fixtureTags(t)
	for _, tc := range []struct {
		name   string
		policy Policy
		want   string
	}{
		{"highest version in a range", Policy{Semver: ">=1.0.0 <3"}, "v2.1.0"},
		{"numbers read as versions, as Flux reads them", Policy{Semver: ">=3"}, "100.5"},
		{"highest in a range", Policy{Semver: "~1.2 || ^1.10"}, "1.10.0"},
		{"prereleases when the range asks", Policy{Semver: ">=1.10.1-0 <2"}, "1.10.1-rc.1"},
		{"highest number", Policy{Numerical: Ascending}, "100.5"},
		{"lowest number", Policy{Numerical: Descending}, "9"},
		{"last alphabetically", Policy{Alphabetical: Ascending}, "v2.1.0"},
		{"first alphabetically", Policy{Alphabetical: Descending}, "1.0.0"},
		{"filtered, alphabetical", Policy{Filter: `^RELEASE\.`, Alphabetical: Ascending}, "RELEASE.2024-11-30"},
		{"timestamp extracted", Policy{Filter: `^main-[0-9a-f]+-(?P<ts>[0-9]+)$`, Extract: "$ts", Numerical: Ascending}, "main-def5678-1700000200"},
		{"version extracted", Policy{Filter: `^v?(?P<v>[0-9.]+)$`, Extract: "${v}", Semver: "<2.0.0"}, "1.10.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Select(tags)
			if err != nil || got != tc.want {
				t.Errorf("Select = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSelectNoTag(t *testing.T) {
	s, err := Compile(Policy{Semver: ">=1000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(fixtureTags(t)); !errors.Is(err, ErrNoTag) {
		t.Errorf("Select = %v, want ErrNoTag", err)
	}
}

func TestSelectTiesDoNotDependOnOrder(t *testing.T) {
	s, err := Compile(Policy{Filter: `-(?P<n>[0-9]+)$`, Extract: "$n", Numerical: Ascending})
	if err != nil {
		t.Fatal(err)
	}
	for _, tags := range [][]string{{"a-2", "b-2", "c-1"}, {"c-1", "b-2", "a-2"}} {
		if got, _ := s.Select(tags); got != "a-2" {
			t.Errorf("Select(%v) = %q, want a-2", tags, got)
		}
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		policy Policy
		want   string
	}{
		{Policy{}, "exactly one"},
		{Policy{Semver: "1", Alphabetical: Ascending}, "exactly one"},
		{Policy{Semver: "not a range"}, "semver range"},
		{Policy{Numerical: "up"}, "numerical order"},
		{Policy{Filter: "(", Numerical: Ascending}, "filter"},
		{Policy{Extract: "$ts", Numerical: Ascending}, "extract"},
	} {
		_, err := Compile(tc.policy)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%+v) = %v, want an error with %q", tc.policy, err, tc.want)
		}
	}
}

// BenchmarkSelect selects among 10,000 tags, the most a scan reads by
// default.
func BenchmarkSelect(b *testing.B) {
	tags := make([]string, DefaultMaxTags)
	for i := range tags {
		tags[i] = fmt.Sprintf("1.%d.%d", i/100, i%100)
	}
	for _, p := range []struct {
		name   string
		policy Policy
	}{
		{"semver", Policy{Semver: ">=1.0.0"}},
		{"numerical-extract", Policy{Filter: `^1\.(?P<n>[0-9]+)\.`, Extract: "$n", Numerical: Ascending}},
		{"alphabetical", Policy{Alphabetical: Ascending}},
	} {
		b.Run(p.name, func(b *testing.B) {
			s, err := Compile(p.policy)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Select(tags); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
