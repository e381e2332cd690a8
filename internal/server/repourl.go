package server

import (
	"net/url"
	"regexp"
	"strings"
)

// scpLike matches Git's scp-like syntax, [user@]host:path, which has no
// scheme and a colon before any slash.
var scpLike = regexp.MustCompile(`^(?:[^@/]+@)?([^@/:]+):(.*)$`)

// repoKey reduces a repository URL to the host and path that name the
// repository whatever the protocol: the scheme, user info, port, a ".git"
// suffix and trailing slashes are dropped and the host is lower-cased, so
// that git@host:org/repo, ssh://git@host/org/repo.git and
// https://host/org/repo/ all give "host/org/repo". A file:// URL gives its
// path. ok is false when raw is no repository URL.
func repoKey(raw string) (key string, ok bool) {
	raw = strings.TrimSpace(raw)
	var host, path string
	if !strings.Contains(raw, "://") {
		m := scpLike.FindStringSubmatch(raw)
		if m == nil {
			return "", false
		}
		host, path = m[1], m[2]
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			return "", false
		}
		host, path = u.Hostname(), u.Path
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimRight(path, "/")
	if path == "" {
		return "", false
	}
	return strings.ToLower(host) + "/" + path, true
}
