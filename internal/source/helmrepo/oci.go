package helmrepo

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// ociRepository is a path in an OCI registry; each chart is a repository
// below it, each version a tag.
type ociRepository struct {
	// base is the registry path without its scheme: "host/path".
	base   string
	client *registry.Client
}

func newOCIRepository(ref Ref, creds Credentials, hc *http.Client, cacheDir string) (*ociRepository, error) {
	authorizer := auth.Client{
		Client: hc,
		Cache:  auth.NewCache(),
		// The given credentials or none: never the Docker or Helm
		// credentials of the process, which belong to no Application.
		Credential: func(context.Context, string) (auth.Credential, error) {
			return auth.Credential{Username: creds.Username, Password: creds.Password}, nil
		},
	}
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(hc),
		registry.ClientOptAuthorizer(authorizer),
		// A file that is never written: the client opens a credentials
		// store whatever its authorizer, and must not find the process's.
		registry.ClientOptCredentialsFile(filepath.Join(cacheDir, ".no-credentials", "config.json")),
	}
	if ref.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &ociRepository{base: strings.TrimSuffix(strings.TrimPrefix(ref.Repository, "oci://"), "/"), client: client}, nil
}

// resolve checks that an exact version is tagged, or picks the highest tag
// within a range.
func (r *ociRepository) resolve(name, version string) (string, error) {
	if !isRange(version) {
		_, err := r.client.Resolve(r.reference(name, version))
		return version, err
	}
	tags, err := r.client.Tags(r.base + "/" + name)
	if err != nil {
		return "", err
	}
	return registry.GetTagMatchingVersionOrConstraint(tags, version)
}

// reference names a version of a chart, with "+" spelled "_" as Helm tags
// it.
func (r *ociRepository) reference(name, version string) string {
	return r.base + "/" + name + ":" + strings.ReplaceAll(version, "+", "_")
}

// download pulls the chart layer of one version.
func (r *ociRepository) download(name, version string) ([]byte, error) {
	res, err := r.client.Pull(r.reference(name, version), registry.PullOptWithChart(true))
	if err != nil {
		return nil, err
	}
	return res.Chart.Data, nil
}
