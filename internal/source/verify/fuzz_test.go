package verify

import (
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
)

// FuzzParseAllowedSigners feeds untrusted allowed signers files to the
// parser: it returns keys or an error, never panics, and every key it
// returns has principals.
func FuzzParseAllowedSigners(f *testing.F) {
	f.Add([]byte(fixture(f, "allowed_signers")))
	f.Add([]byte(fixture(f, "allowed_signers-file-only")))
	f.Add([]byte("a@x,b@x namespaces=\"git\",cert-authority ssh-ed25519 AAAA c\n# x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		signers, err := parseAllowedSigners(data)
		if err != nil {
			return
		}
		for _, s := range signers {
			if s.principals == "" || s.key == nil {
				t.Fatalf("signer %+v without principals or key", s)
			}
		}
	})
}

// FuzzParseOpenPGPKeys feeds untrusted armored key rings to ParseKeys.
func FuzzParseOpenPGPKeys(f *testing.F) {
	f.Add([]byte(fixture(f, "pgp-trusted.asc")))
	f.Add([]byte(fixture(f, "pgp-trusted.asc") + fixture(f, "pgp-other.asc")))
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(map[string][]byte{"k.asc": data})
		if err == nil && keys.openPGP == "" {
			t.Fatal("ParseKeys trusts nothing and says no error")
		}
	})
}

// FuzzVerifyCommit feeds untrusted commit objects, as a repository serves
// them, to Verify: whatever passes says what a trusted key signed, byte
// for byte.
func FuzzVerifyCommit(f *testing.F) {
	for _, name := range []string{"commit-pgp-trusted", "commit-ssh-trusted", "commit-pgp-other", "commit-unsigned"} {
		f.Add([]byte(fixture(f, name)))
	}
	keys, err := ParseKeys(trusted(f))
	if err != nil {
		f.Fatal(err)
	}
	signed := map[string]bool{}
	for _, name := range []string{"commit-pgp-trusted", "commit-ssh-trusted"} {
		signed[payload(f, fixture(f, name))] = true
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a := source.Artifact{Commit: "0123456789abcdef0123456789abcdef01234567", Objects: source.Objects{Commit: string(raw)}}
		signers, err := keys.Verify(a, &weirv1.GitVerification{})
		if err == nil && !signed[payload(t, string(raw))] {
			t.Fatalf("a commit no trusted key signed verified: %s", signers)
		}
	})
}

// payload is what the signature of the commit raw signs.
func payload(t testing.TB, raw string) string {
	c := &object.Commit{}
	if err := c.Decode(memoryObject(plumbing.CommitObject, raw)); err != nil {
		t.Fatal(err)
	}
	obj := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(obj); err != nil {
		t.Fatal(err)
	}
	r, _ := obj.Reader()
	b, _ := io.ReadAll(r)
	return string(b)
}
