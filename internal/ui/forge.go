package ui

import (
	"net/url"
	"regexp"
	"strings"
)

// forges are the Git hosts whose commit pages have a known address:
// the repository's web address and this suffix with the commit.
var forges = map[string]string{
	"github.com":    "/commit/",
	"gitlab.com":    "/-/commit/",
	"bitbucket.org": "/commits/",
	"codeberg.org":  "/commit/",
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// commitURL is the web address of commit (a SHA or a weir revision,
// "main@sha1:<sha>") in repo, or "" when repo is not on a known forge.
// An https, ssh or scp-style (git@host:owner/repo) URL will do.
func commitURL(repo, commit string) string {
	if i := strings.LastIndex(commit, ":"); i >= 0 {
		commit = commit[i+1:]
	}
	if !hexSHA.MatchString(commit) {
		return ""
	}
	if at := strings.Index(repo, "@"); at >= 0 && !strings.Contains(repo, "://") {
		repo = "ssh://" + strings.Replace(repo[at+1:], ":", "/", 1)
	}
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return ""
	}
	suffix, ok := forges[strings.ToLower(u.Hostname())]
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	if !ok || strings.Count(strings.Trim(path, "/"), "/") < 1 {
		return ""
	}
	return "https://" + strings.ToLower(u.Hostname()) + path + suffix + commit
}
