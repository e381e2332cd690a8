package source

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"weir.dev/weir/internal/testenv"
)

func TestFetchSSH(t *testing.T) {
	t.Parallel()
	repo := testenv.NewGitRepo(t)
	commit := commitFiles(repo, "over ssh", map[string]string{"app.yaml": "kind: Secret"})
	root, name := filepath.Split(repo.Dir)

	client, identity := testenv.NewEd25519Key(t)
	_, otherIdentity := testenv.NewEd25519Key(t)
	hostEd25519, _ := testenv.NewEd25519Key(t)
	hostECDSA, _ := testenv.NewECDSAKey(t)
	otherHost, _ := testenv.NewEd25519Key(t)
	// The server offers an ECDSA key, which clients prefer by default,
	// and an Ed25519 key, the only one known_hosts lists: the client must
	// ask for the listed key type.
	srv := testenv.NewGitSSHServer(t, root, client.PublicKey(), hostECDSA, hostEd25519)
	elsewhere := []byte(knownhosts.Line([]string{"192.0.2.1:22"}, hostEd25519.PublicKey()) + "\n")

	tests := []struct {
		name  string
		creds Credentials
		want  string // error substring; empty for success
	}{
		{"right key", Credentials{Identity: identity, KnownHosts: srv.KnownHosts(hostEd25519.PublicKey())}, ""},
		{"wrong key", Credentials{Identity: otherIdentity, KnownHosts: srv.KnownHosts(hostEd25519.PublicKey())},
			"authentication failed: the SSH key was rejected"},
		{"unknown host", Credentials{Identity: identity, KnownHosts: elsewhere},
			"unknown host key (not in known_hosts) for " + srv.Addr()},
		{"host key mismatch", Credentials{Identity: identity, KnownHosts: srv.KnownHosts(otherHost.PublicKey())},
			"host key mismatch for " + srv.Addr()},
		{"no known_hosts", Credentials{Identity: identity}, "SSH needs known_hosts"},
		{"no key", Credentials{KnownHosts: srv.KnownHosts(hostEd25519.PublicKey())}, "SSH needs a private key"},
		{"not a key", Credentials{Identity: []byte("not a key"), KnownHosts: srv.KnownHosts(hostEd25519.PublicKey())},
			"parse SSH private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFetch(t, srv.URL(name), tt.creds, commit, tt.want)
			if err == nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "fetch branch main from "+srv.URL(name)+": ") {
				t.Errorf("error %q does not name the ref and URL", err)
			}
			if len(tt.creds.Identity) > 0 && strings.Contains(err.Error(), string(tt.creds.Identity)) {
				t.Errorf("error %q shows the private key", err)
			}
		})
	}
}
