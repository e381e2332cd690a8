package testenv

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
)

// GitHTTPServer serves the Git repositories in a directory over HTTP or
// HTTPS with git's own http-backend, the smart HTTP protocol hosts speak:
// tests clone, fetch and push through it as through a real Git host.
type GitHTTPServer struct {
	srv      *httptest.Server
	listings atomic.Int64
}

// NewGitHTTPServer serves each repository in root (a GitRepo's Dir, or a
// bare repository) at URL(its directory name), until the test ends. With a
// user, every request needs basic auth with user and password, and others
// get 401. With useTLS it serves HTTPS with httptest's certificate, which
// clients in this process trust after TrustTestServerCertificate.
//
// Pushes are accepted; a push to the branch checked out in a GitRepo updates
// its work tree, which must be clean.
func NewGitHTTPServer(t testing.TB, root, user, password string, useTLS bool) *GitHTTPServer {
	t.Helper()
	s := &GitHTTPServer{}
	srv := httptest.NewUnstartedServer(s.countListings(gitHTTPHandler(t, root, user, password)))
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.srv = srv
	return s
}

// NewGitHTTPServerOn is NewGitHTTPServer over HTTP, without credentials,
// listening on ip rather than loopback: for clients elsewhere than this
// machine's loopback, such as pods of a real node.
func NewGitHTTPServerOn(t testing.TB, ip, root string) *GitHTTPServer {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	s := &GitHTTPServer{}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.countListings(gitHTTPHandler(t, root, "", ""))}}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// gitHTTPHandler serves the repositories in root with git http-backend,
// with basic auth when user is set.
func gitHTTPHandler(t testing.TB, root, user, password string) http.Handler {
	t.Helper()
	var h http.Handler = &cgi.Handler{
		Path:   gitHTTPBackend(t),
		Stderr: io.Discard, // "Not a git repository" for missing ones
		Env: append([]string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
		}, servedRepoEnv("http.receivepack=true")...),
	}
	if user != "" {
		h = basicAuth(h, user, password)
	}
	return h
}

// RefListings is how many ref listings (GET .../info/refs, the first
// request of every fetch and ls-remote) the server has answered.
func (s *GitHTTPServer) RefListings() int64 { return s.listings.Load() }

func (s *GitHTTPServer) countListings(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/info/refs") {
			s.listings.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// URL is the http:// or https:// URL of the repository named repo.
func (s *GitHTTPServer) URL(repo string) string { return s.srv.URL + "/" + repo }

// Certificate is the server's TLS certificate, or nil without TLS.
func (s *GitHTTPServer) Certificate() *x509.Certificate { return s.srv.Certificate() }

// gitHTTPBackend finds git-http-backend in git's exec path.
func gitHTTPBackend(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
}

// servedRepoEnv is the environment of the git processes that serve
// repositories: no system or user configuration, the settings given as
// key=value, and pushes to a checked-out branch updating its work tree.
func servedRepoEnv(settings ...string) []string {
	settings = append(settings, "receive.denyCurrentBranch=updateInstead")
	env := []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(settings))}
	for i, s := range settings {
		key, value, _ := strings.Cut(s, "=")
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, key), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, value))
	}
	return env
}

// basicAuth lets through only requests with the user and password.
func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TrustTestServerCertificate makes the certificate that every HTTPS server
// from net/http/httptest presents, GitHTTPServer's included, a trusted root
// for this process and the git and Go processes it starts, so that code
// under test reaches them as it reaches any host: through the system roots.
// It writes the certificate with the system's root bundle to a temporary
// file named in SSL_CERT_FILE (and GIT_SSL_CAINFO); restore removes the file
// and restores both variables.
//
// The change is process-wide, and Go reads the system roots only once, on
// first use: call it from TestMain (or pass TrustTestServers to Main) before
// anything in the process verifies a certificate. It fails if that already
// happened.
func TrustTestServerCertificate() (restore func(), err error) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	cert := srv.Certificate()
	srv.Close()

	bundle := systemRootBundle()
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	dir, err := os.MkdirTemp("", "weir-test-roots-")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(file, bundle, 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	restoreEnv := setenv(map[string]string{"SSL_CERT_FILE": file, "GIT_SSL_CAINFO": file})
	restore = func() {
		restoreEnv()
		_ = os.RemoveAll(dir)
	}
	if _, err := cert.Verify(x509.VerifyOptions{}); err != nil {
		restore()
		return nil, fmt.Errorf("trust the test server certificate: the system roots were loaded before SSL_CERT_FILE was set (%w)", err)
	}
	return restore, nil
}

// TrustTestServers is TrustTestServerCertificate as a Setup for Main.
func TrustTestServers(*rest.Config) (teardown func(), err error) {
	return TrustTestServerCertificate()
}

// systemRootBundle is the PEM file Go would read the system roots from, so
// that naming another file in SSL_CERT_FILE adds roots rather than
// replacing them; nil if there is none.
func systemRootBundle() []byte {
	files := []string{
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem",
		"/etc/pki/tls/cacert.pem",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/ssl/cert.pem",
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			if len(data) > 0 && data[len(data)-1] != '\n' {
				data = append(data, '\n')
			}
			return data
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	return nil
}

// setenv sets the variables and returns a function that restores them.
func setenv(vars map[string]string) (restore func()) {
	type previous struct {
		value string
		set   bool
	}
	saved := map[string]previous{}
	for k, v := range vars {
		old, set := os.LookupEnv(k)
		saved[k] = previous{old, set}
		_ = os.Setenv(k, v)
	}
	return func() {
		for k, p := range saved {
			if p.set {
				_ = os.Setenv(k, p.value)
			} else {
				_ = os.Unsetenv(k)
			}
		}
	}
}
