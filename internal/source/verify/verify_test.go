package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
)

// fixture reads a file of testdata (see testdata/gen.sh).
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// trusted are the keys testdata/gen.sh made "trusted", of both kinds.
func trusted(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"trusted.asc":     []byte(fixture(t, "pgp-trusted.asc")),
		AllowedSignersKey: []byte(fixture(t, "allowed_signers")),
	}
}

// commitArtifact is the revision main at the commit of testdata file name.
func commitArtifact(t testing.TB, name string) source.Artifact {
	raw := fixture(t, name)
	h := plumbing.ComputeHash(plumbing.CommitObject, []byte(raw)).String()
	return source.Artifact{Revision: "main@sha1:" + h, Commit: h, Objects: source.Objects{Commit: raw}}
}

// tagArtifact is the revision of the annotated tag of testdata file name,
// at the commit of the file commit.
func tagArtifact(t testing.TB, name, commit string) source.Artifact {
	a := commitArtifact(t, commit)
	a.Objects.Tag = fixture(t, name)
	a.Revision = strings.TrimPrefix(name, "tag-") + "@sha1:" + a.Commit
	return a
}

func TestVerify(t *testing.T) {
	tampered := func(a source.Artifact) source.Artifact {
		a.Objects.Commit = strings.Replace(a.Objects.Commit, "\n\n", "\n\nsneaked in ", 1)
		return a
	}
	head := &weirv1.GitVerification{}
	tag := &weirv1.GitVerification{Mode: weirv1.VerifyTag}
	both := &weirv1.GitVerification{Mode: weirv1.VerifyTagAndHEAD}
	sshOnly := map[string][]byte{AllowedSignersKey: []byte(fixture(t, "allowed_signers"))}
	fileOnly := map[string][]byte{AllowedSignersKey: []byte(fixture(t, "allowed_signers-file-only"))}
	cases := []struct {
		name    string
		keys    map[string][]byte
		a       source.Artifact
		mode    *weirv1.GitVerification
		signer  string // in the signers, when it verifies
		wantErr string // in the error, when it does not
	}{
		{name: "commit signed by a trusted OpenPGP key", a: commitArtifact(t, "commit-pgp-trusted"), mode: head, signer: "by OpenPGP key"},
		{name: "commit signed by a trusted SSH key", a: commitArtifact(t, "commit-ssh-trusted"), mode: head, signer: "of trusted@example.com"},
		{name: "unsigned commit", a: commitArtifact(t, "commit-unsigned"), mode: head, wantErr: "is not signed"},
		{name: "commit signed by another OpenPGP key", a: commitArtifact(t, "commit-pgp-other"), mode: head, wantErr: "which is not trusted"},
		{name: "commit signed by another SSH key", a: commitArtifact(t, "commit-ssh-other"), mode: head, wantErr: "is signed by SSH key SHA256:"},
		{name: "OpenPGP-signed commit changed after signing", a: tampered(commitArtifact(t, "commit-pgp-trusted")), mode: head, wantErr: "that does not verify"},
		{name: "SSH-signed commit changed after signing", a: tampered(commitArtifact(t, "commit-ssh-trusted")), mode: head, wantErr: "that does not verify"},
		{name: "OpenPGP signature and only SSH keys", keys: sshOnly, a: commitArtifact(t, "commit-pgp-trusted"), mode: head, wantErr: "no OpenPGP key is trusted"},
		{name: "SSH key listed for another namespace, then for git", keys: map[string][]byte{AllowedSignersKey: []byte(fixture(t, "allowed_signers-file-only") + fixture(t, "allowed_signers"))},
			a: commitArtifact(t, "commit-ssh-trusted"), mode: head, signer: "of trusted@example.com"},
		{name: "SSH key allowed in another namespace", keys: fileOnly, a: commitArtifact(t, "commit-ssh-trusted"), mode: head, wantErr: `allow to sign in namespace "git"`},
		{name: "commit too large to keep", a: func() source.Artifact { a := commitArtifact(t, "commit-pgp-trusted"); a.Objects.Commit = ""; return a }(), mode: head, wantErr: "is not verified"},
		{name: "tag signed by a trusted OpenPGP key", a: tagArtifact(t, "tag-pgp-trusted", "commit-pgp-trusted"), mode: tag, signer: "tag pgp-trusted by OpenPGP key"},
		{name: "tag signed by a trusted SSH key", a: tagArtifact(t, "tag-ssh-trusted", "commit-ssh-trusted"), mode: tag, signer: "tag ssh-trusted by SSH key"},
		{name: "tag mode leaves the commit alone", a: tagArtifact(t, "tag-ssh-trusted", "commit-ssh-trusted"), mode: tag, signer: "tag ssh-trusted by SSH key"},
		{name: "unsigned tag", a: tagArtifact(t, "tag-unsigned", "commit-unsigned"), mode: tag, wantErr: "tag unsigned is not signed"},
		{name: "tag signed by another key", a: tagArtifact(t, "tag-pgp-other", "commit-pgp-other"), mode: tag, wantErr: "tag pgp-other is signed by OpenPGP key"},
		{name: "lightweight tag", a: commitArtifact(t, "commit-pgp-trusted"), mode: tag, wantErr: "is not an annotated tag"},
		{name: "tag of another commit", a: tagArtifact(t, "tag-pgp-trusted", "commit-ssh-trusted"), mode: tag, wantErr: "not to commit"},
		{name: "tag and commit both signed", a: tagArtifact(t, "tag-pgp-trusted", "commit-pgp-trusted"), mode: both, signer: "tag pgp-trusted by OpenPGP key"},
		{name: "signed tag of an unsigned commit", a: tagArtifact(t, "tag-unsigned", "commit-unsigned"), mode: both, wantErr: "tag unsigned is not signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.keys
			if data == nil {
				data = trusted(t)
			}
			keys, err := ParseKeys(data)
			if err != nil {
				t.Fatal(err)
			}
			signers, err := keys.Verify(tc.a, tc.mode)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case tc.wantErr == "" && !strings.Contains(signers, tc.signer):
				t.Errorf("signers %q, want %q in them", signers, tc.signer)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Verify passed (%s), want an error with %q", signers, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q, want %q in it", err, tc.wantErr)
			}
		})
	}
}

// TestVerifyTagAndHEADChecksTheCommit: a revision whose tag is signed by a
// trusted key and whose commit is not signed passes Tag, not TagAndHEAD.
func TestVerifyTagAndHEADChecksTheCommit(t *testing.T) {
	keys, err := ParseKeys(trusted(t))
	if err != nil {
		t.Fatal(err)
	}
	// The signed tag names the commit by its hash; the commit object
	// read is an unsigned one.
	a := tagArtifact(t, "tag-pgp-trusted", "commit-pgp-trusted")
	a.Objects.Commit = fixture(t, "commit-unsigned")
	if _, err := keys.Verify(a, &weirv1.GitVerification{Mode: weirv1.VerifyTag}); err != nil {
		t.Fatalf("Tag: %v", err)
	}
	_, err = keys.Verify(a, &weirv1.GitVerification{Mode: weirv1.VerifyTagAndHEAD})
	if err == nil || !strings.Contains(err.Error(), "is not signed") {
		t.Fatalf("TagAndHEAD: %v, want the unsigned commit refused", err)
	}
}

func TestParseKeys(t *testing.T) {
	pgp, signers := fixture(t, "pgp-trusted.asc"), fixture(t, "allowed_signers")
	key := strings.Fields(signers)[2] + " " + strings.Fields(signers)[3]
	cases := []struct {
		name    string
		data    map[string]string
		wantErr string
	}{
		{name: "OpenPGP and SSH keys", data: map[string]string{"a.asc": pgp, "b.asc": fixture(t, "pgp-other.asc"), AllowedSignersKey: signers}},
		{name: "other keys are ignored", data: map[string]string{"a.asc": pgp, "README": "not a key"}},
		{name: "comments and blank lines", data: map[string]string{AllowedSignersKey: "# team\n\n" + signers}},
		{name: "several principals and namespaces", data: map[string]string{AllowedSignersKey: "a@x,b@x namespaces=\"file,git\" " + key + "\n"}},
		{name: "no key", data: map[string]string{"README": "x"}, wantErr: "no trusted key"},
		{name: "not armored", data: map[string]string{"a.asc": "hello"}, wantErr: "a.asc: not an armored OpenPGP public key"},
		{name: "empty allowed signers", data: map[string]string{AllowedSignersKey: "# nobody\n"}, wantErr: "allowed_signers: no key"},
		{name: "principals alone", data: map[string]string{AllowedSignersKey: "ada@example.com\n"}, wantErr: "line 1: want principals and a key"},
		{name: "bad key", data: map[string]string{AllowedSignersKey: signers + "ada@example.com ssh-ed25519 AAAA\n"}, wantErr: "line 2: principals ada@example.com"},
		{name: "certificate authority", data: map[string]string{AllowedSignersKey: "*@x cert-authority " + key}, wantErr: "option cert-authority is not supported"},
		{name: "validity", data: map[string]string{AllowedSignersKey: "a@x valid-before=\"20300101\" " + key}, wantErr: "option valid-before is not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string][]byte{}
			for k, v := range tc.data {
				data[k] = []byte(v)
			}
			_, err := ParseKeys(data)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParseKeys: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ParseKeys: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}
