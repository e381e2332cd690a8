package sourcepolicy

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// defaultPorts are the ports a URL of each scheme reaches when it names
// none: the same repository with the port written or not.
var defaultPorts = map[string]int{"https": 443, "http": 80, "ssh": 22, "git": 9418, "oci": 443}

// hostName is a host name or a bracketed IPv6 address, lower-cased.
var hostName = regexp.MustCompile(`^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$`)

// NormalizeURL returns the form in which a repository URL is compared with
// the patterns of a SourcePolicy: "scheme://host[:port]/path", with the
// scheme and host lower-cased, no user or password, no default port, the
// path cleaned of "." and ".." segments, with no trailing slash or ".git",
// and escaped as in a URL (so that the result normalizes to itself).
// An scp-like address, [user@]host:path, is ssh://host/path, and a plain
// path is file:///path, as Git reads them (go-git's parser). A URL with a
// query or a fragment, or without a host, is refused.
func NormalizeURL(raw string) (string, error) {
	e, err := transport.NewEndpoint(raw)
	if err != nil {
		return "", errors.New("not a repository URL")
	}
	if strings.ContainsAny(e.Path, "?#") {
		return "", errors.New("a repository URL has no query or fragment")
	}
	scheme := strings.ToLower(e.Protocol)
	host := strings.TrimSuffix(strings.ToLower(e.Host), ".")
	if scheme != "file" && !hostName.MatchString(host) {
		return "", fmt.Errorf("a %s URL names a host", scheme)
	}
	if e.Port != 0 && e.Port != defaultPorts[scheme] {
		host += ":" + strconv.Itoa(e.Port)
	}
	p := path.Clean("/" + e.Path)
	p = strings.TrimRight(strings.TrimSuffix(p, ".git"), "/")
	return scheme + "://" + host + (&url.URL{Path: p}).EscapedPath(), nil
}
