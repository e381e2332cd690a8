package source

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// FuzzRemoteURL prepares remotes for arbitrary repository URLs: none may
// panic, and the form of a URL that weir shows must carry no password (nor,
// for HTTP(S), a user name, often a token) when read back the way go-git
// reads the URL it dials.
func FuzzRemoteURL(f *testing.F) {
	for _, seed := range []string{
		"https://github.com/shop/deploy.git", "https://user:pass@host/repo.git", "https://ghp_token@host:8443/repo.git",
		"HTTP://u:p@host/r", "https://u:p@ss@host/r", "https://host/path@with-at", "ssh://git:secret@host/repo.git",
		"ssh://git@[::1]:2222/repo.git", "git@github.com:org/repo.git", "git:secret@github.com:org/repo.git",
		"file:///srv/git/repo", "/srv/git/repo", "https://u:p@host?x@y", "https://u:p@host#@y", "git://host/repo",
	} {
		f.Add(seed)
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, raw string) {
		r, _ := newRemote(raw, Credentials{}, tmp, RemoteOptions{AllowFileSources: true})
		_ = cacheKey(raw)
		dialed, err := transport.NewEndpoint(raw)
		if err != nil || (dialed.User == "" && dialed.Password == "") {
			return
		}
		shown, err := transport.NewEndpoint(r.display)
		if err != nil {
			return
		}
		if shown.Password != "" && shown.Password != "redacted" {
			t.Errorf("%q is shown as %q, which keeps the password %q", raw, r.display, shown.Password)
		}
		if (shown.Protocol == "http" || shown.Protocol == "https") && shown.User != "" && shown.User != "redacted" {
			t.Errorf("%q is shown as %q, which keeps the user %q", raw, r.display, shown.User)
		}
	})
}

// FuzzResolveSemVer resolves arbitrary ranges against arbitrary tags: no
// panic, and a resolved tag is the highest version within the range.
func FuzzResolveSemVer(f *testing.F) {
	f.Add(">=1.0.0", "v1.0.0", "1.2.0", "v2.0.0-rc.1")
	f.Add("<1.1", "v1.0.0", "v1.1.0", "latest")
	f.Add(">=2.0.0-0", "v2.0.0-rc.1", "2.0.0-rc.2", "v1.9.9")
	f.Add("~1.2 || ^3", "1.2.9", "3.4.5", "4.0.0")
	f.Add("1.x", "1.0.0+build.1", "1.0.0", "01.0.0")
	f.Add("", "", "refs/tags/x", "v")
	f.Fuzz(func(t *testing.T, rangeSpec, tag1, tag2, tag3 string) {
		tags := []string{tag1, tag2, tag3}
		adv := advertised{refs: map[string]plumbing.Hash{}, peeled: map[string]plumbing.Hash{}}
		for i, tag := range tags {
			adv.refs["refs/tags/"+tag] = plumbing.NewHash(fullSHA1String(byte('1' + i)))
		}
		got, err := resolveSemVer(rangeSpec, adv)
		if err != nil {
			return
		}
		c, err := semver.NewConstraint(rangeSpec)
		if err != nil {
			t.Fatalf("resolveSemVer(%q) = %s, yet the range does not parse: %v", rangeSpec, got.name, err)
		}
		v, err := semver.NewVersion(got.name)
		if err != nil || !c.Check(v) {
			t.Fatalf("resolveSemVer(%q) = %s, which is not within the range (%v)", rangeSpec, got.name, err)
		}
		for _, tag := range tags {
			if other, err := semver.NewVersion(tag); err == nil && c.Check(other) && other.GreaterThan(v) {
				t.Errorf("resolveSemVer(%q) = %s, but %s is higher and within the range", rangeSpec, got.name, tag)
			}
		}
	})
}

// testHostKey is the host key the known_hosts seeds list.
func testHostKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// FuzzKnownHosts parses arbitrary known_hosts contents and checks a host
// key against them: no panic, and a key that is accepted is listed for
// the host.
func FuzzKnownHosts(f *testing.F) {
	key := testHostKey(f)
	line := knownhosts.Line([]string{"git.example.com"}, key)
	f.Add([]byte(line+"\n"), "git.example.com:22")
	f.Add([]byte(knownhosts.Line([]string{"[127.0.0.1]:2222"}, key)+"\n"), "127.0.0.1:2222")
	f.Add([]byte("# comment\n\n"+knownhosts.HashHostname("git.example.com")+line[len("git.example.com"):]+"\n"), "git.example.com:22")
	f.Add([]byte("@cert-authority *.example.com "+line[len("git.example.com "):]+"\n"), "git.example.com:22")
	f.Add([]byte("@revoked "+line+"\n"), "git.example.com:22")
	f.Add([]byte("git.example.com ssh-ed25519 AAAA\n"), "git.example.com:22")
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, address string) {
		h, err := newHostKeyChecker(data, address, tmp)
		if err != nil {
			return
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return
		}
		remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
		if h.check(address, remote, key) == nil && !strings.Contains(string(data), host) && !strings.Contains(string(data), "|1|") && !strings.ContainsAny(string(data), "*?") {
			t.Errorf("the key was accepted for %s, which known_hosts does not name:\n%s", address, data)
		}
	})
}

// FuzzSSHIdentity parses arbitrary private keys: no panic, and an error
// never quotes the key's material.
func FuzzSSHIdentity(f *testing.F) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		f.Fatal(err)
	}
	openssh := pem.EncodeToMemory(block)
	f.Add(openssh)
	f.Add(openssh[:len(openssh)/2])
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFsomething user@host"))
	knownHosts := []byte(knownhosts.Line([]string{"git.example.com"}, testHostKey(f)) + "\n")
	ep, err := transport.NewEndpoint("ssh://git@git.example.com/shop/deploy.git")
	if err != nil {
		f.Fatal(err)
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, identity []byte) {
		_, err := newSSHAuth(ep, Credentials{Identity: identity, KnownHosts: knownHosts}, tmp)
		if err == nil {
			return
		}
		for _, line := range strings.Split(string(identity), "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
				t.Errorf("the error quotes the key: %v", err)
			}
		}
	})
}
