package decrypt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	sops "github.com/getsops/sops/v3"
)

// minRedacted is the length below which a value is not redacted: replacing
// every "on" or "42" would garble messages, and so short a secret is no
// secret.
const minRedacted = 4

// redactionMask replaces a secret value in a message.
const redactionMask = "***"

// recorder is the cipher of a decryption, which remembers every value it
// decrypts.
type recorder struct {
	sops.Cipher
	d *Decryptor
}

// Decrypt decrypts a value and records it.
func (r *recorder) Decrypt(ciphertext string, key []byte, additionalData string) (any, error) {
	v, err := r.Cipher.Decrypt(ciphertext, key, additionalData)
	if err == nil {
		r.d.secrets.Add(fmt.Sprint(v))
	}
	return v, err
}

// Redact returns err with every value this Decryptor decrypted replaced by
// "***", for errors of the stages that read decrypted content (kustomize
// may quote what it reads). It returns err itself when it quotes none; a
// redacted error does not wrap err, whose message would still hold them.
func (d *Decryptor) Redact(err error) error { return d.secrets.Redact(err) }

// Secrets returns the values this Decryptor decrypted, for the callers
// that must keep them out of the messages of later stages too.
func (d *Decryptor) Secrets() *Redactor { return d.secrets }

// Redactor keeps secret values out of messages: the values it was given,
// each of their lines, and what a base64 value encodes. It is safe for
// concurrent use; the zero value is not, use NewRedactor.
type Redactor struct {
	mu     sync.Mutex
	values map[string]bool
}

// NewRedactor returns a Redactor that knows no value yet.
func NewRedactor() *Redactor { return &Redactor{values: map[string]bool{}} }

// Add remembers a secret value, each of its lines, and, for the base64 of
// a Secret's data, what it encodes.
func (r *Redactor) Add(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= minRedacted {
			r.values[s] = true
		}
	}
	add(v)
	for _, line := range strings.Split(v, "\n") {
		add(line)
	}
	if decoded, err := base64.StdEncoding.DecodeString(v); err == nil {
		add(string(decoded))
	}
}

// String returns s with every value replaced by "***". A nil Redactor
// returns s.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.byLength() {
		s = strings.ReplaceAll(s, v, redactionMask)
	}
	return s
}

// Redact returns err with every value replaced by "***", or err itself
// when it quotes none (or r is nil).
func (r *Redactor) Redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if redacted := r.String(msg); redacted != msg {
		return errors.New(redacted)
	}
	return err
}

// byLength returns the values, longest first, so that a value containing
// another is replaced whole.
func (r *Redactor) byLength() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	values := make([]string, 0, len(r.values))
	for v := range r.values {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return values
}
