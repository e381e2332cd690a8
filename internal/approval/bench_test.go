package approval

import (
	"testing"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// BenchmarkEnsure is what weir pays, with the policy in force, each time a
// change starts waiting and each time it honours an approval: two reads
// and a dry-run patch that the policy refuses.
func BenchmarkEnsure(b *testing.B) {
	admin := testenv.Client(b, weirv1.AddToScheme)
	p := inForce(b, admin, testenv.Namespace(b))
	gate := NewGate(admin, admin)
	b.ReportAllocs()
	for b.Loop() {
		if err := gate.Ensure(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
}
