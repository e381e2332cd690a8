package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage"
)

// remote is one repository URL as one caller reaches it: with that caller's
// credentials, and the forms of the URL and secrets its errors must hide.
type remote struct {
	url            string // as given, possibly with userinfo
	display        string // url with userinfo redacted; the only form shown
	endpoint       *transport.Endpoint
	auth           transport.AuthMethod // nil for anonymous access
	hasCredentials bool
	secrets        []string
	// proxy is how go-git dials the remote; see stallProxy.
	proxy transport.ProxyOptions
}

// RemoteOptions say how a repository may be reached.
type RemoteOptions struct {
	// Timeout bounds how long the server may stay silent, on top of the
	// caller's context: an SSH handshake is bounded by nothing else. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// AllowFileSources lets a URL name a repository on this machine's
	// disk (file:// or a plain path). Off, such a URL is refused with
	// ErrFileSourceNotAllowed: in a cluster, it would read any repository
	// the controller's file system holds.
	AllowFileSources bool
}

// DefaultTimeout bounds a Fetch, and the silence of a server, unless
// Options or RemoteOptions say otherwise.
const DefaultTimeout = 2 * time.Minute

// ErrFileSourceNotAllowed is the cause of an error about a URL that names a
// repository on the local disk when RemoteOptions do not allow it.
var ErrFileSourceNotAllowed = errors.New("repositories on the controller's disk (file:// URLs and paths) are not allowed unless it runs with --allow-file-sources")

// newRemote prepares to reach url with creds. tmpDir is a directory where
// known_hosts may be written for a moment.
func newRemote(url string, creds Credentials, tmpDir string, opts RemoteOptions) (*remote, error) {
	r := &remote{url: url, display: redactURL(url), secrets: creds.secrets()}
	if url == "" {
		return r, errors.New("no repository URL")
	}
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		// The parser's message would quote the URL in full.
		return r, errors.New("invalid repository URL")
	}
	if ep.Protocol == "file" && !opts.AllowFileSources {
		return r, ErrFileSourceNotAllowed
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	r.endpoint = ep
	r.proxy = stallProxy(ep, opts.Timeout)
	r.endpoint.Proxy = r.proxy
	r.secrets = append(r.secrets, urlSecrets(ep)...)
	r.hasCredentials = !creds.isZero() || ep.Password != ""
	r.auth, err = authFor(ep, creds, tmpDir)
	return r, err
}

// urlSecrets are the parts of the URL's userinfo that may be credentials:
// the password, and for HTTP(S) a lone user name, which is often a token.
func urlSecrets(ep *transport.Endpoint) []string {
	switch {
	case ep.Password != "":
		return []string{ep.Password}
	case ep.User != "" && strings.HasPrefix(ep.Protocol, "http"):
		return []string{ep.User}
	}
	return nil
}

// advertised are the refs a remote offers, as ls-remote shows them.
type advertised struct {
	refs   map[string]plumbing.Hash // full ref name to the object it names
	peeled map[string]plumbing.Hash // annotated tag name to its commit
}

// list asks the remote for its refs, without fetching any object.
func (r *remote) list(ctx context.Context) (advertised, error) {
	cl, err := client.NewClient(r.endpoint)
	if err != nil {
		return advertised{}, err
	}
	session, err := cl.NewUploadPackSession(r.endpoint, r.auth)
	if err != nil {
		return advertised{}, err
	}
	defer session.Close()
	ar, err := session.AdvertisedReferencesContext(ctx)
	if err != nil {
		return advertised{}, fmt.Errorf("list refs: %w", err)
	}
	return advertised{refs: ar.References, peeled: ar.Peeled}, nil
}

// commit is the commit that the ref name points to, through an annotated
// tag if need be.
func (a advertised) commit(name string) (plumbing.Hash, bool) {
	if h, ok := a.peeled[name]; ok {
		return h, true
	}
	h, ok := a.refs[name]
	return h, ok
}

// Remote is a repository URL as one caller reaches it with its credentials,
// for the stages that talk to the repositories weir fetches without fetching
// through a Fetcher (gitwrite pushes to them). It authenticates exactly as
// Fetch does, and describes errors naming the URL in its redacted form only,
// without any credential.
type Remote struct{ r *remote }

// NewRemote prepares to reach url with creds and opts. tmpDir is a
// directory where known_hosts may be written for a moment. Its error (no
// URL, an invalid one, a file:// URL not allowed, an unusable SSH key or
// known_hosts) holds no credential, and is ErrFileSourceNotAllowed for a
// URL refused by opts; the Remote it returns along with an error still
// serves Display.
func NewRemote(url string, creds Credentials, tmpDir string, opts RemoteOptions) (*Remote, error) {
	r, err := newRemote(url, creds, tmpDir, opts)
	switch {
	case errors.Is(err, ErrFileSourceNotAllowed):
	case err != nil:
		err = errors.New(r.scrub(r.describe(err)))
	}
	return &Remote{r: r}, err
}

// Display is the URL with its userinfo redacted: the only form to show.
func (r *Remote) Display() string { return r.r.display }

// Auth is how go-git authenticates to the remote; nil for anonymous access.
func (r *Remote) Auth() transport.AuthMethod { return r.r.auth }

// ProxyOptions is how go-git must dial the remote: pass it to every fetch,
// push and list through GoGit, so that a server that stays silent past the
// Remote's timeout fails the call even where no context reaches.
func (r *Remote) ProxyOptions() transport.ProxyOptions { return r.r.proxy }

// GoGit returns a go-git remote named origin for the URL, reading and
// writing objects and references in s. Fetch and push through it with Auth.
func (r *Remote) GoGit(s storage.Storer) *git.Remote {
	return git.NewRemote(s, &config.RemoteConfig{Name: "origin", URLs: []string{r.r.url}})
}

// Describe says in a few words what err, met while talking to the remote,
// means for a user ("authentication failed: ...", "repository not found"),
// with every credential and the URL's userinfo scrubbed from the text.
func (r *Remote) Describe(err error) string { return r.r.scrub(r.r.describe(err)) }
