package server

import "net/http"

// githubProvider reads GitHub push webhooks, signed in X-Hub-Signature-256.
func githubProvider() provider {
	return provider{
		name:   "github",
		proofs: []string{"X-Hub-Signature-256"},
		verify: func(h http.Header, body, secret []byte) error {
			return verifyHMAC("X-Hub-Signature-256", h.Get("X-Hub-Signature-256"), "sha256=", body, secret)
		},
		parse: func(h http.Header, body []byte) (Push, error) {
			if err := onlyPush("X-GitHub-Event", h.Get("X-GitHub-Event"), "push"); err != nil {
				return Push{}, err
			}
			return decodeHubPush(body)
		},
	}
}

// hubPush is what weir reads of a push payload from GitHub, Gitea or
// Forgejo, which share its shape.
type hubPush struct {
	Ref        string `json:"ref"`
	Repository struct {
		CloneURL string `json:"clone_url"`
		SSHURL   string `json:"ssh_url"`
		HTMLURL  string `json:"html_url"`
	} `json:"repository"`
}

func decodeHubPush(body []byte) (Push, error) {
	var p hubPush
	return decodePush(body, &p, func() Push {
		r := p.Repository
		return Push{Ref: p.Ref, Repositories: []string{r.CloneURL, r.SSHURL, r.HTMLURL}}
	})
}
