package valuewrite

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPromoteValues reads two values from a values file of 500 keys
// and writes them into another, as a promotion does for each file.
func BenchmarkPromoteValues(b *testing.B) {
	var file strings.Builder
	file.WriteString("image:\n  repository: registry.example.com/team/web\n  tag: 1.5.0 # promoted\nresources:\n  limits: {cpu: 500m, memory: 256Mi}\n")
	for i := range 500 {
		fmt.Fprintf(&file, "key%d: value %d # comment %d\n", i, i, i)
	}
	from := []byte(file.String())
	to := []byte(strings.Replace(file.String(), "tag: 1.5.0", "tag: 1.4.0", 1))
	paths := []string{"image.tag", "resources"}
	b.ReportAllocs()
	for b.Loop() {
		values, err := Read(from, paths)
		if err != nil {
			b.Fatal(err)
		}
		if _, changed, err := Set(to, values); err != nil || !changed {
			b.Fatalf("changed %v, err %v", changed, err)
		}
	}
}
