package gitwrite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkRevert reverts the last commit of a bare file:// repository of
// 200 manifests, again and again: each revert undoes the one before, so
// every iteration fetches, merges and pushes a real change. by-hash is a
// server that sends commits by hash, history one that does not.
func BenchmarkRevert(b *testing.B) {
	for _, byHash := range []bool{false, true} {
		name := "history"
		if byHash {
			name = "by-hash"
		}
		b.Run(name, func(b *testing.B) {
			o := newOrigin(b)
			for i := range 200 {
				o.Write(fmt.Sprintf("apps/team-%d/app-%03d.yaml", i%10, i), configMap(i))
			}
			o.Git("add", "-A")
			o.Git("commit", "-q", "--amend", "--no-edit") // into C, the bad commit
			o.bad = o.Head()
			bare := filepath.Join(b.TempDir(), "origin.git")
			o.Git("clone", "-q", "--bare", o.Dir, bare)
			if byHash {
				o.Git("-C", bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
			}
			r := NewReverter(b.TempDir(), fileSources)
			good, bad := o.b, o.bad
			ctx := context.Background()
			for b.Loop() {
				req := o.request("file://" + bare)
				req.Good, req.Bad = good, bad
				h, err := r.Revert(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				good, bad = bad, h
			}
		})
	}
}

// configMap is a manifest of a dozen lines.
func configMap(i int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: app-%03d
  labels:
    team: team-%d
data:
%s`, i, i%10, strings.Repeat(fmt.Sprintf("  KEY_%d: value-%d\n", i, i), 8))
}
