package decrypt_test

import (
	"strings"
	"testing"

	"weir.dev/weir/internal/decrypt"
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

// FuzzParseKeys reads arbitrary age and OpenPGP keys from a Secret: no
// panic, keys that parse have recipients, and an error never quotes a line
// of a key.
func FuzzParseKeys(f *testing.F) {
	alice, carol := decrypttest.NewAgeKey(f), decrypttest.NewPGPKey(f)
	f.Add(alice.Private, carol.Private)
	f.Add([]byte("# created by age-keygen\r\n\r\n"+string(alice.Private)), []byte(nil))
	f.Add([]byte("AGE-SECRET-KEY-1NOTAKEY\n"), carol.Private[:len(carol.Private)/2])
	f.Add([]byte("AGE-PLUGIN-YUBIKEY-1QQQ\n"), []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n-----END PGP PRIVATE KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, ageKeys, pgpKeys []byte) {
		keys, err := decrypt.ParseKeys(map[string][]byte{"keys.agekey": ageKeys, "keys.asc": pgpKeys})
		if err == nil {
			if len(keys.Recipients()) == 0 {
				t.Errorf("keys parsed without a recipient")
			}
			return
		}
		for _, line := range strings.Split(string(ageKeys)+"\n"+string(pgpKeys), "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
				t.Errorf("the error quotes the key: %v", err)
			}
		}
	})
}
