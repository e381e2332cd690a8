package server

import (
	"cmp"
	"net/http"
)

// giteaProvider reads Gitea and Forgejo push webhooks, signed in
// X-Forgejo-Signature or X-Gitea-Signature (a hex HMAC without prefix).
func giteaProvider() provider {
	return provider{
		name:   "gitea",
		proofs: []string{"X-Forgejo-Signature", "X-Gitea-Signature"},
		verify: func(h http.Header, body, secret []byte) error {
			header := "X-Gitea-Signature"
			if h.Get("X-Forgejo-Signature") != "" {
				header = "X-Forgejo-Signature"
			}
			return verifyHMAC(header, h.Get(header), "", body, secret)
		},
		parse: func(h http.Header, body []byte) (Push, error) {
			event := cmp.Or(h.Get("X-Forgejo-Event"), h.Get("X-Gitea-Event"))
			if err := onlyPush("X-Gitea-Event", event, "push"); err != nil {
				return Push{}, err
			}
			return decodeHubPush(body)
		},
	}
}
