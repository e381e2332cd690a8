package server

import "net/http"

// genericProvider reads weir's own push notification, for hosts and CI
// jobs without a native webhook: a JSON body {"repository": URL, "ref":
// "refs/heads/main"} signed in X-Weir-Signature as sha256=<hex HMAC>.
func genericProvider() provider {
	return provider{
		name:   "generic",
		proofs: []string{"X-Weir-Signature"},
		verify: func(h http.Header, body, secret []byte) error {
			return verifyHMAC("X-Weir-Signature", h.Get("X-Weir-Signature"), "sha256=", body, secret)
		},
		parse: func(_ http.Header, body []byte) (Push, error) {
			var p genericPush
			return decodePush(body, &p, func() Push {
				return Push{Ref: p.Ref, Repositories: []string{p.Repository}}
			})
		},
	}
}

// genericPush is the body of a generic push notification.
type genericPush struct {
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
}
