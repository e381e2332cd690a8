package helmrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"weir.dev/weir/internal/source/evict"
)

// Ref names a chart in a repository.
type Ref struct {
	// Repository is "https://..." (or "http://...") for a chart
	// repository, "oci://host/path" for an OCI registry.
	Repository string
	// Name of the chart.
	Name string
	// Version is an exact version or a semver range.
	Version string
	// PlainHTTP talks to an OCI registry over HTTP.
	PlainHTTP bool
}

// String names the chart as errors do: "chart web@^1.2 from https://...".
func (r Ref) String() string {
	return fmt.Sprintf("chart %s@%s from %s", r.Name, r.Version, r.Repository)
}

// Credentials for a repository; the zero value is anonymous access.
type Credentials struct {
	Username, Password string
}

// Chart is a pulled chart.
type Chart struct {
	// Path is the archive in the cache. It is never modified once written.
	Path string
	// Name and Version of the chart; Version is exact.
	Name, Version string
}

// DefaultTimeout bounds each request to a repository unless Options say
// otherwise.
const DefaultTimeout = time.Minute

// Options configure a Puller; the zero value takes the defaults.
type Options struct {
	// MaxCacheBytes is the size the cache of archives is kept under, by
	// removing the least recently used; zero means DefaultMaxCacheBytes.
	MaxCacheBytes int64
	// Timeout bounds each request to a repository or registry; zero
	// means DefaultTimeout.
	Timeout time.Duration
}

// Puller pulls charts into a cache directory. It is safe for concurrent
// use.
type Puller struct {
	dir           string
	timeout       time.Duration
	maxCacheBytes int64
	// transport is shared by every pull, whatever its credentials, so
	// that connections are reused rather than left open per pull.
	transport *http.Transport
	// evictor keeps the cache under its limit.
	evictor evict.Evictor
}

// NewPuller returns a Puller that keeps charts under cacheDir, which it
// creates if need be.
func NewPuller(cacheDir string, opts Options) *Puller {
	if opts.MaxCacheBytes <= 0 {
		opts.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Puller{
		dir:           cacheDir,
		timeout:       opts.Timeout,
		maxCacheBytes: opts.MaxCacheBytes,
		transport:     http.DefaultTransport.(*http.Transport).Clone(),
	}
}

// Pull returns the chart ref names, from the cache when its version is
// there, otherwise downloaded from the repository; the archive stays cached
// for ten minutes at least. Either way the version is
// first resolved by the repository with creds; for a range, the highest
// version in it is pulled. Each request is bounded by a timeout rather than
// by ctx, which Helm's clients do not take.
func (p *Puller) Pull(ctx context.Context, ref Ref, creds Credentials) (Chart, error) {
	if err := validate(ref); err != nil {
		return Chart{}, fmt.Errorf("%s: %w", ref, err)
	}
	if err := ctx.Err(); err != nil {
		return Chart{}, fmt.Errorf("%s: %w", ref, err)
	}
	repo, err := p.repository(ref, creds)
	if err != nil {
		return Chart{}, fmt.Errorf("%s: %w", ref, err)
	}
	c, err := p.pull(repo, ref)
	if err != nil {
		return Chart{}, fmt.Errorf("%s: %s", ref, scrub(err, creds))
	}
	return c, nil
}

// repository is where charts are downloaded from.
type repository interface {
	// resolve returns the exact version of the chart that version, exact
	// or a range, selects. It asks the repository, with the caller's
	// credentials, even for an exact version.
	resolve(name, version string) (string, error)
	// download returns the archive of a chart version.
	download(name, version string) ([]byte, error)
}

// repository returns the client for ref's repository.
func (p *Puller) repository(ref Ref, creds Credentials) (repository, error) {
	if strings.HasPrefix(ref.Repository, "oci://") {
		return newOCIRepository(ref, creds, &http.Client{Transport: p.transport, Timeout: p.timeout}, p.dir)
	}
	return newIndexRepository(ref.Repository, creds, p.transport, p.timeout, p.dir)
}

// pull resolves ref's version and downloads it unless it is cached. The
// version is resolved by the repository even when it is exact and cached:
// that is where the caller's credentials are checked, so that a chart one
// Application pulled is never handed to another that may not read it.
func (p *Puller) pull(repo repository, ref Ref) (Chart, error) {
	version, err := repo.resolve(ref.Name, ref.Version)
	if err != nil {
		return Chart{}, err
	}
	c := Chart{Path: p.archivePath(ref, version), Name: ref.Name, Version: version}
	if err := touch(c.Path); err == nil {
		return c, nil
	}
	data, err := repo.download(ref.Name, version)
	if err != nil {
		return Chart{}, err
	}
	if err := writeAtomic(c.Path, data); err != nil {
		return Chart{}, fmt.Errorf("cache: %w", err)
	}
	p.evict()
	return c, nil
}

// archivePath is where the cache keeps a version of ref's chart.
func (p *Puller) archivePath(ref Ref, version string) string {
	sum := sha256.Sum256([]byte(ref.Repository + "\x00" + ref.Name))
	return filepath.Join(p.dir, hex.EncodeToString(sum[:16]), ref.Name+"-"+version+".tgz")
}

// writeAtomic writes data to a temporary file beside name and renames it
// into place.
func writeAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".pull-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// validate refuses refs that could not name a chart, or would carry
// credentials or climb out of the cache.
func validate(ref Ref) error {
	u, err := url.Parse(ref.Repository)
	switch {
	case err != nil:
		return errors.New("invalid repository URL")
	case u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "oci":
		return errors.New("the repository must be an https://, http:// or oci:// URL")
	case u.User != nil:
		return errors.New("the repository URL holds credentials: put them in the Secret named by secretRef")
	case ref.Name == "" || strings.ContainsAny(ref.Name, `/\:@`) || strings.HasPrefix(ref.Name, "."):
		return fmt.Errorf("invalid chart name %q", ref.Name)
	case ref.Version == "":
		return errors.New("no version given")
	}
	if isRange(ref.Version) {
		if _, err := semver.NewConstraint(ref.Version); err != nil {
			return fmt.Errorf("version %q is neither a version nor a range: %w", ref.Version, err)
		}
	}
	return nil
}

// isRange reports whether version is a semver range rather than one exact
// version.
func isRange(version string) bool {
	_, err := semver.StrictNewVersion(version)
	return err != nil
}

// scrub removes the password from an error's text: some clients quote what
// they were sent.
func scrub(err error, creds Credentials) string {
	msg := err.Error()
	if creds.Password != "" {
		msg = strings.ReplaceAll(msg, creds.Password, "redacted")
	}
	return msg
}
