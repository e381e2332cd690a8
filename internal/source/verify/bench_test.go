package verify

import (
	"testing"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// BenchmarkVerify is the cost of verifying one revision's commit, which
// every reconcile of a verifying Application pays, with the Secret's keys
// parsed each time as the loader does.
func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"commit-pgp-trusted", "commit-ssh-trusted"} {
		b.Run(name, func(b *testing.B) {
			data, a := trusted(b), commitArtifact(b, name)
			b.ReportAllocs()
			for b.Loop() {
				keys, err := ParseKeys(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := keys.Verify(a, &weirv1.GitVerification{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
