package decrypt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	sops "github.com/getsops/sops/v3"
)

// minRedacted is the length below which a value is not redacted: replacing
// every "on" or "42" would garble messages, and so short a secret is no
// secret.
const minRedacted = 4

// redactionMask replaces a decrypted value in a message.
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
		r.d.record(fmt.Sprint(v))
	}
	return v, err
}

// record remembers a decrypted value, each of its lines, and, for the
// base64 of a Secret's data, what it encodes.
func (d *Decryptor) record(v string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= minRedacted {
			d.values[s] = true
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

// Redact returns err with every value this Decryptor decrypted replaced by
// "***", for errors of the stages that read decrypted content (kustomize
// may quote what it reads). It returns err itself when it quotes none; a
// redacted error does not wrap err, whose message would still hold them.
func (d *Decryptor) Redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	redacted := msg
	for _, v := range d.byLength() {
		redacted = strings.ReplaceAll(redacted, v, redactionMask)
	}
	if redacted == msg {
		return err
	}
	return errors.New(redacted)
}

// byLength returns the recorded values, longest first, so that a value
// containing another is replaced whole.
func (d *Decryptor) byLength() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	values := make([]string, 0, len(d.values))
	for v := range d.values {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return values
}
