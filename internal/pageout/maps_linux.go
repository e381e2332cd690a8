package pageout

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// span is one mapping of the binary: its start address and length.
type span struct {
	start, length uintptr
}

// readOnlySpans returns the mappings of the file binary in maps (the
// format of /proc/<pid>/maps) that are not writable: its code and read-only
// data, whose pages are the file's own and can be dropped. Writable
// mappings hold the binary's variables, which are the process's own once
// written.
func readOnlySpans(maps io.Reader, binary string) ([]span, error) {
	var spans []span
	lines := bufio.NewScanner(maps)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) < 6 || strings.Join(fields[5:], " ") != binary || strings.Contains(fields[1], "w") {
			continue
		}
		start, end, ok := strings.Cut(fields[0], "-")
		if !ok {
			return nil, fmt.Errorf("mapping %q: no address range", fields[0])
		}
		from, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("mapping %q: %w", fields[0], err)
		}
		to, err := strconv.ParseUint(end, 16, 64)
		if err != nil || to < from {
			return nil, fmt.Errorf("mapping %q: bad end address", fields[0])
		}
		spans = append(spans, span{start: uintptr(from), length: uintptr(to - from)})
	}
	return spans, lines.Err()
}
