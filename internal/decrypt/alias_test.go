package decrypt_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"weir.dev/weir/internal/decrypt"
)

// TestDecryptRefusesAliasBombs reads a SOPS-marked YAML file of nested
// aliases (testdata/alias-bomb.yaml: 534 bytes for ten million nodes). It is
// refused with the same check and message as every other file a render
// reads, naming the line, before the SOPS store parses it.
func TestDecryptRefusesAliasBombs(t *testing.T) {
	data, err := os.ReadFile("testdata/alias-bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = decrypt.New(nil).Decrypt("bomb.yaml", data, false)
	var de *decrypt.Error
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), "decrypt bomb.yaml: line 9: YAML aliases expand") {
		t.Errorf("Decrypt = %v, want a *decrypt.Error about the aliases of line 9", err)
	}
}
