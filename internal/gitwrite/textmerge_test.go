package gitwrite

import (
	"strings"
	"testing"
)

func TestMergeText(t *testing.T) {
	t.Parallel()
	// lines spells one line per letter; "." spells no line.
	lines := func(s string) string {
		if s == "." {
			return ""
		}
		return strings.Join(strings.Split(s, ""), "\n") + "\n"
	}
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string // "!" for a conflict
	}{
		{name: "nothing changed", base: "abc", ours: "abc", theirs: "abc", want: "abc"},
		{name: "ours only", base: "abcde", ours: "aXcde", theirs: "abcde", want: "aXcde"},
		{name: "theirs only", base: "abcde", ours: "abcde", theirs: "abcdY", want: "abcdY"},
		{name: "separate lines", base: "abcde", ours: "aXcde", theirs: "abcYe", want: "aXcYe"},
		{name: "separate insertions", base: "abcde", ours: "aXbcde", theirs: "abcdeY", want: "aXbcdeY"},
		{name: "deletion and change apart", base: "abcdef", ours: "acdef", theirs: "abcdeY", want: "acdeY"},
		{name: "same change", base: "abcde", ours: "aXcde", theirs: "aXcde", want: "aXcde"},
		{name: "same insertion", base: "abc", ours: "aXbc", theirs: "aXbc", want: "aXbc"},
		{name: "same line, different changes", base: "abcde", ours: "aXcde", theirs: "aYcde", want: "!"},
		{name: "adjacent lines", base: "abcde", ours: "aXcde", theirs: "abYde", want: "!"},
		{name: "insertions at one place", base: "abc", ours: "aXbc", theirs: "aYbc", want: "!"},
		{name: "change and deletion of one line", base: "abc", ours: "aXc", theirs: "ac", want: "!"},
		{name: "hunks interleaved", base: "abcdefg", ours: "aXcdeYg", theirs: "abcZefg", want: "aXcZeYg"},
		{name: "one hunk of theirs spans two of ours", base: "abcdefg", ours: "aXcdeYg", theirs: "aZg", want: "!"},
		{name: "both added different files", base: ".", ours: "ab", theirs: "ac", want: "!"},
		{name: "both added the same", base: ".", ours: "ab", theirs: "ab", want: "ab"},
		{name: "one side emptied the file", base: "abc", ours: ".", theirs: "abc", want: "."},
		{name: "emptied and changed", base: "abc", ours: ".", theirs: "aXc", want: "!"},
		{name: "repeated lines", base: "aaaaaa", ours: "aaXaaaa", theirs: "aaaaaaY", want: "aaXaaaaY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mergeText([]byte(lines(tt.base)), []byte(lines(tt.ours)), []byte(lines(tt.theirs)))
			if tt.want == "!" {
				if ok {
					t.Fatalf("merged into %q, want a conflict", got)
				}
				return
			}
			if !ok {
				t.Fatal("conflict, want a merge")
			}
			if string(got) != lines(tt.want) {
				t.Errorf("merged = %q, want %q", got, lines(tt.want))
			}
		})
	}
}

func TestMergeTextKeepsLineEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, ours, theirs, want string
	}{
		{"no final newline", "a\nb\nc", "X\nb\nc", "a\nb\nY", "X\nb\nY"},
		{"final newline added apart", "a\nb\nc", "X\nb\nc", "a\nb\nc\n", "X\nb\nc\n"},
		{"CRLF", "a\r\nb\r\nc\r\n", "X\r\nb\r\nc\r\n", "a\r\nb\r\nY\r\n", "X\r\nb\r\nY\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mergeText([]byte(tt.base), []byte(tt.ours), []byte(tt.theirs))
			if !ok || string(got) != tt.want {
				t.Errorf("mergeText = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestLineRunesSkipSurrogates(t *testing.T) {
	t.Parallel()
	var base, other []string
	for i := range 0xE000 {
		base = append(base, strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i)+"\n")
	}
	other = append(other, base...)
	other[0xD900] = "changed\n"
	got, ok := mergeText([]byte(strings.Join(base, "")), []byte(strings.Join(base, "")), []byte(strings.Join(other, "")))
	if !ok || string(got) != strings.Join(other, "") {
		t.Fatal("a change to line 0xD900 was not merged as it is")
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	s := ""
	for {
		s = string(digits[i%10]) + s
		i /= 10
		if i == 0 {
			return s
		}
	}
}

func FuzzMergeText(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nX\nc\n", "a\nb\nY\n")
	f.Add("", "a", "b")
	f.Add("a\r\nb", "a\r\n", "b")
	f.Fuzz(func(t *testing.T, base, ours, theirs string) {
		merged, ok := mergeText([]byte(base), []byte(ours), []byte(theirs))
		switch {
		case ours == theirs && (!ok || string(merged) != ours):
			t.Errorf("same both sides: mergeText = %q, %v; want %q", merged, ok, ours)
		case base == ours && (!ok || string(merged) != theirs):
			t.Errorf("only theirs changed: mergeText = %q, %v; want %q", merged, ok, theirs)
		case base == theirs && (!ok || string(merged) != ours):
			t.Errorf("only ours changed: mergeText = %q, %v; want %q", merged, ok, ours)
		}
		swapped, swappedOK := mergeText([]byte(base), []byte(theirs), []byte(ours))
		if ok != swappedOK || string(merged) != string(swapped) {
			t.Errorf("mergeText = %q, %v, but with the sides swapped %q, %v", merged, ok, swapped, swappedOK)
		}
	})
}
