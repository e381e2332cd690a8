package decrypt

import "encoding/json"

// MarshalJSON encodes the keys as the Secret entries they were parsed
// from, to hand them to a render worker over a pipe. The result holds the
// private keys: it must never be logged or written to disk.
func (k *Keys) MarshalJSON() ([]byte, error) {
	return json.Marshal(k.secret)
}

// UnmarshalJSON parses keys that MarshalJSON encoded.
func (k *Keys) UnmarshalJSON(data []byte) error {
	var secret map[string][]byte
	if err := json.Unmarshal(data, &secret); err != nil {
		return err
	}
	parsed, err := ParseKeys(secret)
	if err != nil {
		return err
	}
	*k = *parsed
	return nil
}

// Keys returns the keys the Decryptor decrypts with; nil for none.
func (d *Decryptor) Keys() *Keys { return d.keys }

// Values returns the values the Decryptor has decrypted and redacts, for a
// render worker to hand back to the Decryptor of the controller.
func (d *Decryptor) Values() []string {
	return d.secrets.byLength()
}

// AddValues records values decrypted elsewhere (by a render worker with
// the same keys), so that Redact removes them too.
func (d *Decryptor) AddValues(values []string) {
	d.secrets.mu.Lock()
	defer d.secrets.mu.Unlock()
	for _, v := range values {
		d.secrets.values[v] = true
	}
}
