package localcluster

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDefaultBuildOptionsOutsideACheckout checks that, run from a directory
// outside any weir checkout, the build modules are those of the checkout
// the code was compiled from (go test does not trim paths).
func TestDefaultBuildOptionsOutsideACheckout(t *testing.T) {
	here, err := DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := DefaultBuildOptions(t.TempDir())
	if err != nil {
		t.Fatalf("outside a checkout: %v", err)
	}
	if elsewhere != here {
		t.Errorf("outside a checkout the build options are %+v, want this checkout's %+v", elsewhere, here)
	}
	if _, err := os.Stat(filepath.Join(elsewhere.Source, "go.mod")); err != nil {
		t.Error(err)
	}
}
