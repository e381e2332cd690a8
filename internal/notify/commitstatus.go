package notify

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// maxDescription bounds a commit status's description: GitHub refuses
// more than 140 characters.
const maxDescription = 140

// CommitStatus sets the status of the Event's commit on a Git host's API:
// pending while a rollout progresses, failure on an error, success
// otherwise, under the context "weir/<namespace>/<application>". An Event
// without a commit, or whose repository is not on that host, is not sent.
type CommitStatus struct {
	poster
	// Host is the API: weirv1.ProviderGitHub, ProviderGitLab or
	// ProviderGitea.
	Host weirv1.NotificationProvider
	// Address is the API's base URL.
	Address string
	Token   string
	// Repository is the Application's spec.source.url.
	Repository string
}

// Send sets the status of e's commit.
func (c *CommitStatus) Send(ctx context.Context, e Event) error {
	sha := commitOf(e.Revision)
	repo, err := repositoryPath(c.Repository)
	if sha == "" || err != nil {
		return fmt.Errorf("%w: %s has no commit in %s to set a status on", ErrPermanent, e.Kind+" "+e.Namespace+"/"+e.Name, c.what)
	}
	path, header, body := c.request(repo, sha, e)
	return c.postJSON(ctx, strings.TrimSuffix(c.Address, "/")+path, header, body)
}

// request is the path, headers and body of the host's API call.
func (c *CommitStatus) request(repo, sha string, e Event) (string, http.Header, map[string]string) {
	name := "weir/" + e.Namespace + "/" + cmp.Or(e.Application, e.Name)
	desc := truncateRunes(e.Reason+": "+e.Message, maxDescription)
	state := commitState(e)
	header := http.Header{}
	switch c.Host {
	case weirv1.ProviderGitLab:
		header.Set("PRIVATE-TOKEN", c.Token)
		if state == "failure" {
			state = "failed"
		}
		return "/api/v4/projects/" + url.PathEscape(repo) + "/statuses/" + sha, header,
			map[string]string{"state": state, "name": name, "description": desc}
	case weirv1.ProviderGitea:
		header.Set("Authorization", "token "+c.Token)
		return "/api/v1/repos/" + repo + "/statuses/" + sha, header,
			map[string]string{"state": state, "context": name, "description": desc}
	default:
		header.Set("Authorization", "Bearer "+c.Token)
		header.Set("Accept", "application/vnd.github+json")
		header.Set("X-GitHub-Api-Version", "2022-11-28")
		return "/repos/" + repo + "/statuses/" + sha, header,
			map[string]string{"state": state, "context": name, "description": desc}
	}
}

// commitState is e as GitHub's and Gitea's state; GitLab calls failure
// failed.
func commitState(e Event) string {
	switch {
	case e.Severity == weirv1.SeverityError:
		return "failure"
	case e.Reason == "Progressing" || e.Reason == "StepReached":
		return "pending"
	default:
		return "success"
	}
}

// commitOf is the commit hash of a revision "<ref>@sha1:<hash>".
func commitOf(revision string) string {
	_, hash, ok := strings.Cut(revision, "sha1:")
	if !ok {
		_, hash, _ = strings.Cut(revision, "sha256:")
	}
	return hash
}

// repositoryPath is "owner/name" (GitLab: "group/subgroup/name") of a Git
// URL: https://host/owner/name.git, ssh://git@host/owner/name or
// git@host:owner/name.git.
func repositoryPath(repo string) (string, error) {
	path := ""
	if u, err := url.Parse(repo); err == nil && u.Host != "" {
		path = u.Path
	} else if _, after, ok := strings.Cut(repo, ":"); ok && !strings.Contains(repo, "://") {
		path = after
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if !strings.Contains(path, "/") {
		return "", fmt.Errorf("repository %q has no owner/name path", repo)
	}
	return path, nil
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
