package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// errUnauthorized is a request that does not prove it knows the secret.
var errUnauthorized = errors.New("unauthorized")

// verifyHMAC checks a hex HMAC-SHA256 signature of body, after prefix, in
// header (named for the error).
func verifyHMAC(header, value, prefix string, body, secret []byte) error {
	if value == "" {
		return fmt.Errorf("%w: no %s header", errUnauthorized, header)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(value, prefix))
	if err != nil || !strings.HasPrefix(value, prefix) {
		return fmt.Errorf("%w: %s is not %s<hex HMAC-SHA256>", errUnauthorized, header, prefix)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: %s does not match the body", errUnauthorized, header)
	}
	return nil
}

// verifyToken checks a token sent in header (named for the error) in
// constant time.
func verifyToken(header, value string, secret []byte) error {
	if value == "" {
		return fmt.Errorf("%w: no %s header", errUnauthorized, header)
	}
	if subtle.ConstantTimeCompare([]byte(value), secret) != 1 {
		return fmt.Errorf("%w: %s does not match", errUnauthorized, header)
	}
	return nil
}
