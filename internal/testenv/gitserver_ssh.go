package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// GitSSHServer serves the Git repositories in a directory over SSH, as Git
// hosts do: it authenticates one client key and runs the real
// git-upload-pack (clone, fetch) or git-receive-pack (push) that the client
// asks for. Any other command is refused.
type GitSSHServer struct {
	root       string
	authorized ssh.PublicKey
	listener   net.Listener
	wg         sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// NewGitSSHServer serves each repository in root (a GitRepo's Dir, or a bare
// repository) at URL(its directory name) on a loopback port, until the test
// ends. It accepts only authorizedKey, and presents hostKeys, of which
// clients pick one by their preference and their known_hosts.
//
// A push to the branch checked out in a GitRepo updates its work tree,
// which must be clean.
func NewGitSSHServer(t testing.TB, root string, authorizedKey ssh.PublicKey, hostKeys ...ssh.Signer) *GitSSHServer {
	t.Helper()
	if len(hostKeys) == 0 {
		t.Fatal("NewGitSSHServer needs at least one host key")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &GitSSHServer{root: root, authorized: authorizedKey, listener: ln, conns: map[net.Conn]struct{}{}}
	cfg := &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	s.wg.Go(func() { s.serve(cfg) })
	t.Cleanup(s.close)
	return s
}

// Addr is the server's host:port.
func (s *GitSSHServer) Addr() string { return s.listener.Addr().String() }

// URL is the ssh:// URL, with user git, of the repository named repo.
func (s *GitSSHServer) URL(repo string) string { return "ssh://git@" + s.Addr() + "/" + repo }

// KnownHosts is a known_hosts line, newline included, saying that the
// server's host key is key.
func (s *GitSSHServer) KnownHosts(key ssh.PublicKey) []byte {
	return []byte(knownhosts.Line([]string{s.Addr()}, key) + "\n")
}

// close stops accepting, drops open connections and waits for every
// session's git process to end.
func (s *GitSSHServer) close() {
	_ = s.listener.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *GitSSHServer) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if s.authorized != nil && bytes.Equal(key.Marshal(), s.authorized.Marshal()) {
		return nil, nil
	}
	return nil, errors.New("unauthorized key")
}

func (s *GitSSHServer) serve(cfg *ssh.ServerConfig) {
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.handle(conn, cfg) })
	}
}

// handle serves one connection: session channels with one exec each.
func (s *GitSSHServer) handle(conn net.Conn, cfg *ssh.ServerConfig) {
	defer func() {
		_ = conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.session(ch, chReqs) })
	}
}

// session runs the command of the channel's exec request. It passes on
// GIT_PROTOCOL from an env request, so that git clients can speak
// protocol version 2.
func (s *GitSSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var protocol string
	for req := range reqs {
		switch req.Type {
		case "env":
			var env struct{ Name, Value string }
			ok := ssh.Unmarshal(req.Payload, &env) == nil && env.Name == "GIT_PROTOCOL"
			if ok {
				protocol = env.Value
			}
			_ = req.Reply(ok, nil)
		case "exec":
			var exec struct{ Command string }
			if ssh.Unmarshal(req.Payload, &exec) != nil {
				_ = req.Reply(false, nil)
				return
			}
			cmd, ok := s.gitCommand(exec.Command)
			_ = req.Reply(ok, nil)
			if !ok {
				return
			}
			if protocol != "" {
				cmd.Env = append(cmd.Env, "GIT_PROTOCOL="+protocol)
			}
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			status := uint32(0)
			if err := cmd.Run(); err != nil {
				status = 1
			}
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// gitCommand accepts only "git-upload-pack '<path>'" and
// "git-receive-pack '<path>'" (or "git upload-pack ..."), with the path
// mapped into root.
func (s *GitSSHServer) gitCommand(command string) (*exec.Cmd, bool) {
	if rest, ok := strings.CutPrefix(command, "git "); ok {
		command = "git-" + rest
	}
	verb, arg, _ := strings.Cut(command, " ")
	if verb != "git-upload-pack" && verb != "git-receive-pack" ||
		len(arg) < 2 || arg[0] != '\'' || arg[len(arg)-1] != '\'' {
		return nil, false
	}
	dir := filepath.Join(s.root, filepath.Clean("/"+arg[1:len(arg)-1]))
	cmd := exec.Command("git", strings.TrimPrefix(verb, "git-"), dir)
	cmd.Env = append(os.Environ(), servedRepoEnv()...)
	return cmd, true
}

// NewEd25519Key returns a new Ed25519 key as a signer (for a host key or
// an authorized key) and as an unencrypted OpenSSH private key in PEM (for
// a client's identity).
func NewEd25519Key(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signerAndPEM(t, priv)
}

// NewECDSAKey is NewEd25519Key for an ECDSA P-256 key.
func NewECDSAKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signerAndPEM(t, priv)
}

func signerAndPEM(t testing.TB, priv any) (ssh.Signer, []byte) {
	t.Helper()
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}
