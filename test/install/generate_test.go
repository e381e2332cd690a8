package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRolesGenerated regenerates weir's roles from the +kubebuilder:rbac
// markers in internal/ and finds config/rbac/role.yaml up to date, so that
// what the manifests grant follows what the code calls (`make generate`).
func TestRolesGenerated(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command("go", "tool", "controller-gen", "rbac:roleName=weir-controller", "paths=./internal/...", "output:rbac:dir="+out)
	cmd.Dir = "../.."
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(filepath.Join(out, "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(configDir, "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("config/rbac/role.yaml is not what the markers generate; run make generate. Generated:\n%s", want)
	}
}
