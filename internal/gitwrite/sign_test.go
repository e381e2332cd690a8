package gitwrite

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/internal/testenv"
)

// TestRevertSigned pushes a revert signed with each kind of key, and git
// itself, told to trust that key, verifies the commit.
func TestRevertSigned(t *testing.T) {
	t.Parallel()
	for _, kind := range []struct {
		name string
		key  func(testing.TB, string) *testenv.SigningKey
	}{
		{"OpenPGP", testenv.NewGPGKey},
		{"SSH", testenv.NewSSHSigningKey},
	} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			key := kind.key(t, "weir@example.com")
			signer, err := ParseSigningKey(key.Private)
			if err != nil {
				t.Fatal(err)
			}
			o := newOrigin(t)
			req := o.request(o.URL())
			req.Signer = signer
			h, err := revert(t, NewReverter(t.TempDir(), fileSources), req)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := verifyCommit(t, o, key, h); err != nil {
				t.Fatalf("git verify-commit %s: %v\n%s", h, err, out)
			}
		})
	}
}

// verifyCommit runs git verify-commit on commit h of o, trusting key: the
// GnuPG home that made an OpenPGP key, an allowed signers file for SSH.
func verifyCommit(t *testing.T, o *origin, key *testenv.SigningKey, h string) (string, error) {
	signers := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(signers, key.Trusted, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "-c", "gpg.ssh.allowedSignersFile="+signers, "verify-commit", h)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), key.Env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestParseSigningKey(t *testing.T) {
	t.Parallel()
	ssh := testenv.NewSSHSigningKey(t, "weir@example.com")
	tests := []struct {
		name    string
		key     string
		wantErr string
	}{
		{"SSH private key", string(ssh.Private), ""},
		{"SSH public key", string(ssh.Trusted), "neither an armored OpenPGP private key nor an SSH private key"},
		{"garbage", "hello", "neither"},
		{"broken OpenPGP armor", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----\n", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSigningKey([]byte(tt.key))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "PRIVATE"):
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}

// FuzzParseSigningKey feeds the Secret data a signing key is read from to
// ParseSigningKey: it returns a Signer or an error that does not quote it.
func FuzzParseSigningKey(f *testing.F) {
	f.Add([]byte(testenv.NewSSHSigningKey(f, "weir@example.com").Private))
	f.Add([]byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxVgEZ\n-----END PGP PRIVATE KEY BLOCK-----\n"))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, key []byte) {
		signer, err := ParseSigningKey(key)
		if err == nil && signer == nil {
			t.Fatal("no Signer and no error")
		}
		if err != nil && len(key) > 8 && strings.Contains(err.Error(), string(key)) {
			t.Fatalf("the error quotes the key: %v", err)
		}
	})
}
