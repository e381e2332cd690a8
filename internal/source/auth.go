package source

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Credentials for a repository; the zero value is anonymous access.
type Credentials struct {
	// Username and Password are HTTP(S) basic auth; a token goes in
	// Password, with Username empty or whatever the server expects.
	Username, Password string
	// Identity is an SSH private key in PEM or OpenSSH format, without
	// a passphrase.
	Identity []byte
	// KnownHosts holds the known_hosts lines that the SSH server's key
	// must match; it is required with Identity.
	KnownHosts []byte
}

// isZero reports whether c asks for anonymous access.
func (c Credentials) isZero() bool {
	return c.Username == "" && c.Password == "" && len(c.Identity) == 0
}

// fingerprint identifies c and url (which may hold userinfo) without
// holding them, so that only Fetches with the same credentials share what
// the remote answered.
func (c Credentials) fingerprint(url string) [32]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(url), []byte(c.Username), []byte(c.Password), c.Identity, c.KnownHosts} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return [32]byte(h.Sum(nil))
}

// secrets lists the values of c that must never be shown.
func (c Credentials) secrets() []string {
	var s []string
	if c.Password != "" {
		s = append(s, c.Password)
	}
	if len(c.Identity) > 0 {
		s = append(s, string(c.Identity))
	}
	return s
}

// Defaults for connections.
const (
	// defaultHTTPUser is sent with a token given without a user name;
	// hosts that authenticate by token accept any non-empty name.
	defaultHTTPUser = "git"
	// defaultSSHUser is the SSH user when the URL names none.
	defaultSSHUser = "git"
	// sshDialTimeout bounds the TCP connection and handshake, which go-git
	// does not tie to the context.
	sshDialTimeout = 30 * time.Second
)

// authFor returns how to authenticate to ep with c, or nil for anonymous
// access. tmpDir is a directory it may briefly write known_hosts to.
func authFor(ep *transport.Endpoint, c Credentials, tmpDir string) (transport.AuthMethod, error) {
	switch ep.Protocol {
	case "http", "https":
		return httpAuth(c), nil
	case "ssh":
		return newSSHAuth(ep, c, tmpDir)
	case "file", "git":
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported protocol %q", ep.Protocol)
}

// httpAuth is basic auth from c, or nil when c has no password.
func httpAuth(c Credentials) transport.AuthMethod {
	if c.Username == "" && c.Password == "" {
		return nil
	}
	user := c.Username
	if user == "" {
		user = defaultHTTPUser
	}
	return &githttp.BasicAuth{Username: user, Password: c.Password}
}

// sshAuth authenticates with one private key and accepts only the host keys
// in its known_hosts. It implements go-git's ssh.AuthMethod.
type sshAuth struct {
	user     string
	signer   ssh.Signer
	hostKeys *hostKeyChecker
}

func newSSHAuth(ep *transport.Endpoint, c Credentials, tmpDir string) (*sshAuth, error) {
	if len(c.Identity) == 0 {
		return nil, errors.New("SSH needs a private key (identity); none was given")
	}
	if len(c.KnownHosts) == 0 {
		return nil, errors.New("SSH needs known_hosts to verify the server; none was given")
	}
	signer, err := ssh.ParsePrivateKey(c.Identity)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, errors.New("the SSH private key is protected by a passphrase, which is not supported")
	case err != nil:
		// The parser's messages describe the format, never the key.
		return nil, fmt.Errorf("parse SSH private key: %w", err)
	}
	hostKeys, err := newHostKeyChecker(c.KnownHosts, sshAddress(ep), tmpDir)
	if err != nil {
		return nil, err
	}
	user := ep.User
	if user == "" {
		user = defaultSSHUser
	}
	return &sshAuth{user: user, signer: signer, hostKeys: hostKeys}, nil
}

// Name identifies the method to go-git.
func (a *sshAuth) Name() string { return "ssh-public-key" }

// String describes the method without the key.
func (a *sshAuth) String() string { return "user: " + a.user + ", name: " + a.Name() }

// ClientConfig is the SSH client configuration go-git dials with.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hostKeys.check,
		HostKeyAlgorithms: a.hostKeys.algorithms,
		Timeout:           sshDialTimeout,
	}, nil
}

// sshAddress is the host:port go-git dials for ep.
func sshAddress(ep *transport.Endpoint) string {
	port := ep.Port
	if port <= 0 {
		port = 22
	}
	return net.JoinHostPort(strings.Trim(ep.Host, "[]"), strconv.Itoa(port))
}

// hostKeyChecker verifies an SSH server's key against known_hosts lines.
type hostKeyChecker struct {
	db *knownhosts.HostKeyDB
	// algorithms are the key types known_hosts lists for the address.
	// Without them the server may offer a key of another type, which
	// would be rejected although the host is known (go-git >= 5.16 no
	// longer works this out for a custom callback).
	algorithms []string
}

func newHostKeyChecker(knownHosts []byte, address, tmpDir string) (*hostKeyChecker, error) {
	db, err := loadKnownHosts(knownHosts, tmpDir)
	if err != nil {
		return nil, err
	}
	return &hostKeyChecker{db: db, algorithms: db.HostKeyAlgorithms(address)}, nil
}

// loadKnownHosts parses known_hosts lines. The parsers read only files, so
// the lines are written to a temporary file, removed once read.
func loadKnownHosts(knownHosts []byte, tmpDir string) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp(tmpDir, ".known_hosts-*")
	if err != nil {
		return nil, fmt.Errorf("write known_hosts: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(knownHosts)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, fmt.Errorf("write known_hosts: %w", err)
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		return nil, fmt.Errorf("parse known_hosts: %w", err)
	}
	return db, nil
}

// check is the ssh.HostKeyCallback: it accepts only a key that known_hosts
// lists for the host, and says plainly why it refuses one.
func (h *hostKeyChecker) check(host string, remote net.Addr, key ssh.PublicKey) error {
	err := h.db.HostKeyCallback()(host, remote, key)
	switch {
	case err == nil:
		return nil
	case knownhosts.IsHostKeyChanged(err):
		return &hostKeyError{host: host, reason: "host key mismatch"}
	case knownhosts.IsHostUnknown(err):
		return &hostKeyError{host: host, reason: "unknown host key (not in known_hosts)"}
	}
	return &hostKeyError{host: host, reason: "host key rejected: " + err.Error()}
}
