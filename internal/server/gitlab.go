package server

import "net/http"

// gitlabProvider reads GitLab push and tag push webhooks, which carry the
// secret token in X-Gitlab-Token.
func gitlabProvider() provider {
	return provider{
		name:   "gitlab",
		proofs: []string{"X-Gitlab-Token"},
		verify: func(h http.Header, _, secret []byte) error {
			return verifyToken("X-Gitlab-Token", h.Get("X-Gitlab-Token"), secret)
		},
		parse: func(h http.Header, body []byte) (Push, error) {
			if err := onlyPush("X-Gitlab-Event", h.Get("X-Gitlab-Event"), "Push Hook", "Tag Push Hook"); err != nil {
				return Push{}, err
			}
			var p gitlabPush
			return decodePush(body, &p, func() Push {
				r := p.Project
				return Push{Ref: p.Ref, Repositories: []string{r.GitHTTPURL, r.GitSSHURL, r.WebURL}}
			})
		},
	}
}

// gitlabPush is what weir reads of a GitLab push payload.
type gitlabPush struct {
	Ref     string `json:"ref"`
	Project struct {
		GitHTTPURL string `json:"git_http_url"`
		GitSSHURL  string `json:"git_ssh_url"`
		WebURL     string `json:"web_url"`
	} `json:"project"`
}
