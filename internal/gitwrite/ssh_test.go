package gitwrite

import (
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

func TestRevertSSH(t *testing.T) {
	t.Parallel()
	client, identity := testenv.NewEd25519Key(t)
	_, otherIdentity := testenv.NewEd25519Key(t)
	hostKey, _ := testenv.NewEd25519Key(t)
	otherHost, _ := testenv.NewEd25519Key(t)
	tests := []struct {
		name     string
		identity []byte
		hostKey  bool // known_hosts lists the server's key, not another
		want     string
	}{
		{name: "identity and known_hosts", identity: identity, hostKey: true},
		{name: "wrong key", identity: otherIdentity, hostKey: true, want: "authentication failed: the SSH key was rejected"},
		{name: "host key mismatch", identity: identity, want: "host key mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			root, name := filepath.Split(o.Dir)
			srv := testenv.NewGitSSHServer(t, root, client.PublicKey(), hostKey)
			knownHosts := srv.KnownHosts(otherHost.PublicKey())
			if tt.hostKey {
				knownHosts = srv.KnownHosts(hostKey.PublicKey())
			}
			req := o.request(srv.URL(name))
			req.Credentials = source.Credentials{Identity: tt.identity, KnownHosts: knownHosts}
			h, err := revert(t, NewReverter(t.TempDir(), fileSources), req)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkRevertCommit(t, o, h, o.bad, map[string]string{
					deploymentPath: o.show(t, o.good+":"+deploymentPath),
					configMapPath:  o.show(t, o.good+":"+configMapPath),
				})
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), string(tt.identity)) {
				t.Errorf("error %q shows the private key", err)
			}
			checkHead(t, o, o.bad)
		})
	}
}
