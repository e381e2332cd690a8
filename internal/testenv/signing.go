package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SigningKey is a throwaway key, without a passphrase, that git signs
// commits and tags with: OpenPGP through gpg, or SSH through ssh-keygen.
type SigningKey struct {
	// Trusted is what a verifier trusts: an armored OpenPGP public key,
	// or a line of an SSH allowed signers file for namespace "git".
	Trusted []byte
	// Private is the private key: armored OpenPGP, or OpenSSH.
	Private []byte
	// SecretKey is the key of a Secret to hold Trusted under:
	// "<name>.asc" or "allowed_signers".
	SecretKey string
	// Env is what git needs in its environment to sign, or verify, with
	// the key: the GnuPG home that holds an OpenPGP key.
	Env []string
	// config are git's settings to sign with the key.
	config []string
}

// NewGPGKey makes an ed25519 OpenPGP key for email in a GnuPG home of its
// own, whose agent is stopped when the test ends.
func NewGPGKey(t testing.TB, email string) *SigningKey {
	t.Helper()
	// Not t.TempDir: gpg-agent's socket path must stay short.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GNUPGHOME="+home)
	t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = env
		_ = kill.Run()
		_ = os.RemoveAll(home)
	})
	runTool(t, env, "gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
		"--quick-gen-key", "Test <"+email+">", "ed25519", "sign", "never")
	return &SigningKey{
		Trusted:   runTool(t, env, "gpg", "--armor", "--export", email),
		Private:   runTool(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", email),
		SecretKey: strings.NewReplacer("@", "-", ".", "-").Replace(email) + ".asc",
		config:    []string{"gpg.format=openpgp", "user.signingkey=" + email},
		Env:       []string{"GNUPGHOME=" + home},
	}
}

// NewSSHSigningKey makes an ed25519 SSH key, trusted for principal.
func NewSSHSigningKey(t testing.TB, principal string) *SigningKey {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_ed25519")
	runTool(t, os.Environ(), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", path)
	private, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	public, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return &SigningKey{
		Trusted:   []byte(principal + ` namespaces="git" ` + string(public)),
		Private:   private,
		SecretKey: "allowed_signers",
		config:    []string{"gpg.format=ssh", "user.signingkey=" + path},
	}
}

// runTool runs a command with env and returns its output, failing the test on
// error.
func runTool(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return out
}

// CommitSigned stages everything and commits it signed with key,
// returning the commit's SHA-1.
func (r *GitRepo) CommitSigned(message string, key *SigningKey) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.signing(key, "commit", "-q", "-S", "--allow-empty", "-m", message)
	return r.Head()
}

// TagSigned makes an annotated tag of the current commit, signed with key.
func (r *GitRepo) TagSigned(name string, key *SigningKey) {
	r.t.Helper()
	r.signing(key, "tag", "-s", "-m", "release "+name, name)
}

// signing runs git with key's settings.
func (r *GitRepo) signing(key *SigningKey, args ...string) {
	r.t.Helper()
	var full []string
	for _, c := range key.config {
		full = append(full, "-c", c)
	}
	r.gitEnv(key.Env, append(full, args...)...)
}
