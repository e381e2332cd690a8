package imagescan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Bounds of a scan, unless Limits say otherwise.
const (
	// DefaultMaxTags is how many tags a scan reads at most.
	DefaultMaxTags = 10000
	// DefaultTimeout bounds a whole scan.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseBytes bounds each response of the registry.
	DefaultMaxResponseBytes = 4 << 20
)

// Limits bound a scan; zero values take the defaults.
type Limits struct {
	MaxTags          int
	Timeout          time.Duration
	MaxResponseBytes int64
}

// Repository is where a scan reads tags, and how it reaches it.
type Repository struct {
	// Name is the repository, "registry.example.com/team/web"; a name
	// without a registry is Docker Hub's.
	Name string
	// DockerConfigJSON is the content of a kubernetes.io/dockerconfigjson
	// Secret's .dockerconfigjson; empty reads anonymously.
	DockerConfigJSON []byte
	// CA is PEM certificates the registry's certificate must chain to, in
	// addition to the system's.
	CA []byte
	// Insecure speaks plain HTTP to the registry.
	Insecure bool
}

// ErrTooManyTags is the cause of the error ListTags returns for a
// repository with more tags than Limits.MaxTags.
var ErrTooManyTags = errors.New("too many tags")

// ListTags returns the tags of repo, at most limits.MaxTags. Errors name
// the repository, never a credential.
func ListTags(ctx context.Context, repo Repository, limits Limits) ([]string, error) {
	limits = limits.withDefaults()
	tags, err := listTags(ctx, repo, limits)
	if err != nil {
		return nil, fmt.Errorf("list the tags of %s: %w", repo.Name, err)
	}
	return tags, nil
}

// listTags pages through the tags of repo.
func listTags(ctx context.Context, repo Repository, limits Limits) ([]string, error) {
	var opts []name.Option
	if repo.Insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewRepository(repo.Name, opts...)
	if err != nil {
		return nil, err
	}
	auth, err := authenticator(repo.DockerConfigJSON, ref.RegistryStr())
	if err != nil {
		return nil, err
	}
	transport, err := newTransport(repo.CA, limits.MaxResponseBytes)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	puller, err := remote.NewPuller(remote.WithAuth(auth), remote.WithTransport(transport), remote.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	lister, err := puller.Lister(ctx, ref)
	if err != nil {
		return nil, err
	}
	var tags []string
	for lister.HasNext() {
		page, err := lister.Next(ctx)
		if err != nil {
			return nil, err
		}
		tags = append(tags, page.Tags...)
		if len(tags) > limits.MaxTags {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyTags, limits.MaxTags)
		}
	}
	return tags, nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxTags <= 0 {
		l.MaxTags = DefaultMaxTags
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return l
}

// dockerConfig is the part of a .dockerconfigjson that a scan reads.
type dockerConfig struct {
	Auths map[string]authn.AuthConfig `json:"auths"`
}

// authenticator returns the credentials config holds for registry, or
// anonymous ones. Its errors hold nothing of config.
func authenticator(config []byte, registry string) (authn.Authenticator, error) {
	if len(config) == 0 {
		return authn.Anonymous, nil
	}
	var c dockerConfig
	if err := json.Unmarshal(config, &c); err != nil {
		return nil, errors.New("the pull secret's .dockerconfigjson is not a JSON object with auths")
	}
	for _, key := range []string{registry, "https://" + registry, "http://" + registry} {
		if a, ok := c.Auths[key]; ok {
			return authn.FromConfig(a), nil
		}
	}
	if registry == name.DefaultRegistry {
		if a, ok := c.Auths["https://index.docker.io/v1/"]; ok {
			return authn.FromConfig(a), nil
		}
	}
	return authn.Anonymous, nil
}

// newTransport returns an HTTP transport that trusts ca besides the
// system's roots and fails responses larger than maxBytes.
func newTransport(ca []byte, maxBytes int64) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("the CA has no PEM certificate")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &boundedTransport{next: t, max: maxBytes}, nil
}

// boundedTransport fails a response body once it passes max bytes.
type boundedTransport struct {
	next http.RoundTripper
	max  int64
}

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &boundedBody{r: resp.Body, left: b.max}
	return resp, nil
}

// ErrResponseTooLarge is the cause of the error a scan returns when a
// response of the registry passes Limits.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("registry response too large")

type boundedBody struct {
	r    io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.r.Close() }
