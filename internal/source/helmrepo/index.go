package helmrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/getter"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// indexRepository is an HTTP(S) chart repository: an index.yaml listing
// every version of every chart, with the URLs of their archives.
type indexRepository struct {
	url    string
	getter getter.Getter
	// tmpDir holds the index while Helm parses it.
	tmpDir string
	// index is read on first use.
	index *repo.IndexFile
}

func newIndexRepository(url string, creds Credentials, transport *http.Transport, timeout time.Duration, tmpDir string) (*indexRepository, error) {
	g, err := getter.NewHTTPGetter(
		// Credentials go to the repository's own scheme, host and port only,
		// not to wherever the index points archives.
		getter.WithURL(url),
		getter.WithBasicAuth(creds.Username, creds.Password),
		getter.WithPassCredentialsAll(false),
		getter.WithTransport(transport),
		getter.WithTimeout(timeout),
	)
	if err != nil {
		return nil, err
	}
	return &indexRepository{url: url, getter: g, tmpDir: tmpDir}, nil
}

// resolve finds an exact version in the index, or the highest version
// within a range.
func (r *indexRepository) resolve(name, version string) (string, error) {
	versions, err := r.versions(name)
	if err != nil {
		return "", err
	}
	if !isRange(version) {
		if _, err := findVersion(versions, version); err != nil {
			return "", err
		}
		return version, nil
	}
	c, err := semver.NewConstraint(version)
	if err != nil {
		return "", err
	}
	// The index lists versions highest first.
	for _, cv := range versions {
		if v, err := semver.NewVersion(cv.Version); err == nil && c.Check(v) {
			return cv.Version, nil
		}
	}
	return "", fmt.Errorf("no version in %s (of %d listed)", version, len(versions))
}

// download fetches the archive of one version and checks its digest.
func (r *indexRepository) download(name, version string) ([]byte, error) {
	versions, err := r.versions(name)
	if err != nil {
		return nil, err
	}
	cv, err := findVersion(versions, version)
	if err != nil {
		return nil, err
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("version %s has no download URL in the index", version)
	}
	u, err := repo.ResolveReferenceURL(r.url, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	buf, err := r.getter.Get(u)
	if err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != cv.Digest {
			return nil, fmt.Errorf("archive %s has digest sha256:%s, the index says sha256:%s", u, got, cv.Digest)
		}
	}
	return data, nil
}

// findVersion returns the entry of an exact version.
func findVersion(versions repo.ChartVersions, version string) (*repo.ChartVersion, error) {
	for _, cv := range versions {
		if cv.Version == version {
			return cv, nil
		}
	}
	return nil, fmt.Errorf("version %s not found in the repository's index", version)
}

// versions lists the chart's versions in the index, highest first.
func (r *indexRepository) versions(name string) (repo.ChartVersions, error) {
	if r.index == nil {
		index, err := r.fetchIndex()
		if err != nil {
			return nil, err
		}
		r.index = index
	}
	versions, ok := r.index.Entries[name]
	if !ok || len(versions) == 0 {
		return nil, errors.New("no such chart in the repository's index")
	}
	return versions, nil
}

// fetchIndex downloads and parses the repository's index.yaml.
func (r *indexRepository) fetchIndex() (*repo.IndexFile, error) {
	u, err := repo.ResolveReferenceURL(r.url, "index.yaml")
	if err != nil {
		return nil, err
	}
	buf, err := r.getter.Get(u)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	// Helm parses indexes from files only.
	if err := os.MkdirAll(r.tmpDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(r.tmpDir, ".index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	index, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		// Helm's message names the temporary file; the URL says more.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, fmt.Errorf("index %s: %w", u, err)
	}
	return index, nil
}
