package decrypt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
)

// plaintexts are the values of the testdata files; none may show in an
// error.
var plaintexts = []string{
	"correct-horse-battery-staple", "c2VjcmV0LXRva2VuLTQyNDI=", "json-api-key-8d41", "configmap-secret-9f2c",
	"env-password-5e1b", "env-token-77aa", "ini-password-3c9d", "binary-private-key-0b7e",
}

func TestDecrypt(t *testing.T) {
	alice, bob, carol := decrypttest.NewAgeKey(t), decrypttest.NewAgeKey(t), decrypttest.NewPGPKey(t)
	tests := []struct {
		name string
		// file in testdata, encrypted for to unless plain is set.
		file  string
		regex string
		to    []decrypttest.Key
		plain bool
		// tamper changes the encrypted file.
		tamper       func([]byte) []byte
		keys         []decrypttest.Key
		secretSource bool
		// want are the values the plaintext holds; wantErr what the error says.
		want    []string
		wantErr string
	}{{
		name: "age Secret", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		want: []string{"password: correct-horse-battery-staple", "token: c2VjcmV0LXRva2VuLTQyNDI=", "name: db"},
	}, {
		name: "OpenPGP Secret", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{carol}, keys: []decrypttest.Key{carol},
		want: []string{"password: correct-horse-battery-staple"},
	}, {
		name: "one of several recipients", file: "secret.yaml", to: []decrypttest.Key{alice, carol}, keys: []decrypttest.Key{bob, carol},
		want: []string{"password: correct-horse-battery-staple"},
	}, {
		name: "JSON Secret", file: "secret.json", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		want: []string{`"key": "json-api-key-8d41"`},
	}, {
		name: "dotenv for a secretGenerator", file: "app.env", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice}, secretSource: true,
		want: []string{"DB_PASSWORD=env-password-5e1b\n", "API_TOKEN=env-token-77aa\n"},
	}, {
		name: "INI for a secretGenerator", file: "app.ini", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice}, secretSource: true,
		want: []string{"[database]", "ini-password-3c9d"},
	}, {
		name: "binary for a secretGenerator", file: "tls.key", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice}, secretSource: true,
		want: []string{"-----BEGIN PRIVATE KEY-----\nbinary-private-key-0b7e\n"},
	}, {
		name: "plain file as it is", file: "configmap.yaml", plain: true,
		want: []string{"password: configmap-secret-9f2c"},
	}, {
		name: "wrong key", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{alice}, keys: []decrypttest.Key{bob},
		wantErr: "decrypt secret.yaml: no key of the decryption Secret opens it: it is encrypted for " + alice.Recipient + " (age); the Secret holds keys for " + bob.Recipient,
	}, {
		name: "age file, OpenPGP key", file: "secret.yaml", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{carol},
		wantErr: "no key of the decryption Secret opens it",
	}, {
		name: "no spec.decryption", file: "secret.yaml", to: []decrypttest.Key{alice},
		wantErr: "decrypt secret.yaml: the file is SOPS-encrypted, but the Application sets no spec.decryption",
	}, {
		name: "changed MAC", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		tamper:  flip(`mac: ENC\[AES256_GCM,data:`),
		wantErr: "the MAC does not match",
	}, {
		name: "changed clear value", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		tamper:  func(data []byte) []byte { return bytes.Replace(data, []byte("name: db"), []byte("name: other"), 1) },
		wantErr: "decrypt secret.yaml: the MAC does not match: the file was changed after it was encrypted",
	}, {
		name: "changed encrypted value", file: "secret.yaml", regex: decrypttest.SecretRegex, to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		tamper:  flip(`password: ENC\[AES256_GCM,data:`),
		wantErr: "a value cannot be decrypted",
	}, {
		name: "encrypted ConfigMap", file: "configmap.yaml", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		wantErr: "decrypt configmap.yaml: document 1 is a ConfigMap: weir decrypts only Secrets",
	}, {
		name: "dotenv not for a secretGenerator", file: "app.env", to: []decrypttest.Key{alice}, keys: []decrypttest.Key{alice},
		wantErr: "document 1 is not a Kubernetes object",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readTestdata(t, tt.file)
			if !tt.plain {
				data = decrypttest.Encrypt(t, tt.file, data, tt.regex, tt.to...)
			}
			if tt.tamper != nil {
				data = tt.tamper(data)
			}
			got, err := newDecryptor(t, tt.keys...).Decrypt(tt.file, data, tt.secretSource)
			if tt.wantErr != "" {
				checkError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(got), want) {
					t.Errorf("plaintext lacks %q:\n%s", want, got)
				}
			}
			if bytes.Contains(got, []byte("ENC[")) || bytes.Contains(got, []byte("sops")) {
				t.Errorf("plaintext keeps SOPS data:\n%s", got)
			}
		})
	}
}

// checkError checks that err is a *decrypt.Error saying want and quoting no
// value.
func checkError(t *testing.T, err error, want string) {
	t.Helper()
	var de *decrypt.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a *decrypt.Error", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	for _, v := range plaintexts {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error quotes the value %q: %v", v, err)
		}
	}
}

// encryptedSecret returns testdata/secret.yaml encrypted for a new age key
// as `sops --encrypt --encrypted-regex` would, and a Decryptor with the key.
func encryptedSecret(t testing.TB) (*decrypt.Decryptor, []byte) {
	t.Helper()
	key := decrypttest.NewAgeKey(t)
	data := decrypttest.Encrypt(t, "secret.yaml", readTestdata(t, "secret.yaml"), decrypttest.SecretRegex, key)
	return newDecryptor(t, key), data
}

func newDecryptor(t testing.TB, keys ...decrypttest.Key) *decrypt.Decryptor {
	t.Helper()
	if len(keys) == 0 {
		return decrypt.New(nil)
	}
	data := map[string][]byte{}
	for i, k := range keys {
		suffix := decrypt.AgeKeySuffix
		if !strings.HasPrefix(k.Recipient, "age1") {
			suffix = decrypt.PGPKeySuffix
		}
		data[string(rune('a'+i))+suffix] = k.Private
	}
	parsed, err := decrypt.ParseKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	return decrypt.New(parsed)
}

// flip returns a tamper function that changes the character after the
// first match of re.
func flip(re string) func([]byte) []byte {
	r := regexp.MustCompile(re)
	return func(data []byte) []byte {
		loc := r.FindIndex(data)
		if loc == nil {
			panic("no match for " + re)
		}
		out := bytes.Clone(data)
		if out[loc[1]] == 'A' {
			out[loc[1]] = 'B'
		} else {
			out[loc[1]] = 'A'
		}
		return out
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
