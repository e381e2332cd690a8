package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// SignatureHeader carries a webhook body's HMAC-SHA256, as
// "sha256=<hex>", when the Notification's Secret holds hmacKey.
const SignatureHeader = "X-Weir-Signature"

// Webhook posts each Event as weir's JSON (the Event's fields) to a URL.
type Webhook struct {
	poster
	Address string
	// Token, when set, is sent as a bearer token.
	Token string
	// HMACKey, when set, signs each body.
	HMACKey []byte
}

// Send posts e.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode the message to %s: %w", w.what, err)
	}
	header := bearer(w.Token)
	if len(w.HMACKey) > 0 {
		header.Set(SignatureHeader, Sign(w.HMACKey, body))
	}
	return w.post(ctx, w.Address, header, body)
}

// Sign is the value of SignatureHeader for body signed with key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// bearer is a header with token as bearer token, or empty.
func bearer(token string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}
