package pageout

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestReadOnlySpans(t *testing.T) {
	tests := []struct {
		name   string
		binary string
		want   []span
	}{
		{"code and read-only data, not variables nor other files", "/usr/local/bin/weir",
			[]span{{0x400000, 0x359f000 - 0x400000}, {0x359f000, 0x74f8000 - 0x359f000}}},
		{"a path with a space", "/tmp/with space/weir", []span{{0x7f1c3b000000, 0x1000}}},
		{"a binary not mapped", "/usr/bin/other", nil},
	}
	maps, err := os.ReadFile("testdata/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readOnlySpans(strings.NewReader(string(maps)), tt.binary)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func TestReadOnlySpansRefusesABadRange(t *testing.T) {
	for _, line := range []string{
		"00400000 r-xp 00000000 fe:00 1 /bin/weir",
		"zz-0359f000 r-xp 00000000 fe:00 1 /bin/weir",
		"00500000-00400000 r-xp 00000000 fe:00 1 /bin/weir",
	} {
		if _, err := readOnlySpans(strings.NewReader(line), "/bin/weir"); err == nil {
			t.Errorf("%q: no error", line)
		}
	}
}
