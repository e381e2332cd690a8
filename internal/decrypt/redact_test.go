package decrypt_test

import (
	"errors"
	"testing"
)

func TestRedact(t *testing.T) {
	d, encrypted := encryptedSecret(t)
	if _, err := d.Decrypt("secret.yaml", encrypted, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{`kustomize: invalid value "correct-horse-battery-staple"`, `kustomize: invalid value "***"`},
		{"token c2VjcmV0LXRva2VuLTQyNDI= is secret-token-4242", "token *** is ***"},
		{"user shop", "user ***"},
		// Values left in the clear are not redacted.
		{"Secret db of type Opaque", "Secret db of type Opaque"},
	}
	for _, tt := range tests {
		in := errors.New(tt.in)
		got := d.Redact(in)
		if got.Error() != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in == tt.want && got != in {
			t.Errorf("Redact(%q) made a new error with nothing to redact", tt.in)
		}
	}
	if d.Redact(nil) != nil {
		t.Error("Redact(nil) is not nil")
	}
}
