package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
)

// sign is the hex HMAC-SHA256 of body keyed with secret.
func sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func TestProvidersVerifyTheSharedSecret(t *testing.T) {
	const secret = "hook-secret-7d2f"
	body := []byte(`{"ref":"refs/heads/main"}`)
	good, bad := sign(body, secret), sign(body, "another-secret")
	tests := []struct {
		provider, name string
		header         http.Header
		ok             bool
	}{
		{"github", "signed", http.Header{"X-Hub-Signature-256": {"sha256=" + good}}, true},
		{"github", "unsigned", http.Header{}, false},
		{"github", "signed with another secret", http.Header{"X-Hub-Signature-256": {"sha256=" + bad}}, false},
		{"github", "without the sha256= prefix", http.Header{"X-Hub-Signature-256": {good}}, false},
		{"github", "not hex", http.Header{"X-Hub-Signature-256": {"sha256=zz" + good[2:]}}, false},
		{"github", "truncated", http.Header{"X-Hub-Signature-256": {"sha256=" + good[:32]}}, false},
		{"github", "SHA-1 header only", http.Header{"X-Hub-Signature": {"sha1=" + good}}, false},
		{"gitea", "Gitea signature", http.Header{"X-Gitea-Signature": {good}}, true},
		{"gitea", "Forgejo signature", http.Header{"X-Forgejo-Signature": {good}}, true},
		{"gitea", "Forgejo signature wrong, Gitea right", http.Header{"X-Forgejo-Signature": {bad}, "X-Gitea-Signature": {good}}, false},
		{"gitea", "with a prefix", http.Header{"X-Gitea-Signature": {"sha256=" + good}}, false},
		{"gitea", "unsigned", http.Header{}, false},
		{"gitlab", "token", http.Header{"X-Gitlab-Token": {secret}}, true},
		{"gitlab", "wrong token", http.Header{"X-Gitlab-Token": {"hook-secret-7d2g"}}, false},
		{"gitlab", "token prefix", http.Header{"X-Gitlab-Token": {secret[:4]}}, false},
		{"gitlab", "no token", http.Header{}, false},
		{"gitlab", "the body's signature", http.Header{"X-Gitlab-Token": {good}}, false},
		{"generic", "signed", http.Header{"X-Weir-Signature": {"sha256=" + good}}, true},
		{"generic", "GitHub's header", http.Header{"X-Hub-Signature-256": {"sha256=" + good}}, false},
		{"generic", "signed with another secret", http.Header{"X-Weir-Signature": {"sha256=" + bad}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.name, func(t *testing.T) {
			err := providerNamed(t, tt.provider).verify(tt.header, body, []byte(secret))
			if tt.ok && err != nil {
				t.Errorf("verify = %v, want accepted", err)
			}
			if !tt.ok && !errors.Is(err, errUnauthorized) {
				t.Errorf("verify = %v, want unauthorized", err)
			}
		})
	}
}
