package decrypt_test

import (
	"testing"

	"weir.dev/weir/internal/decrypt/decrypttest"
)

// FuzzDecrypt feeds Decrypt what a repository may hold: it must return,
// plaintext or an error, and never panic.
func FuzzDecrypt(f *testing.F) {
	alice := decrypttest.NewAgeKey(f)
	d := newDecryptor(f, alice)
	for _, name := range []string{"secret.yaml", "secret.json", "app.env", "app.ini", "tls.key"} {
		f.Add(name, decrypttest.Encrypt(f, name, readTestdata(f, name), "", alice))
	}
	f.Add("plain.yaml", []byte("sops:\n  mac: x\n"))
	f.Add("plain.json", []byte(`{"sops": 1}{"sops": 2}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		_, _ = d.Decrypt(name, data, true)
		_, _ = d.Decrypt(name, data, false)
	})
}
