package decrypt_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
)

func TestParseKeys(t *testing.T) {
	alice, carol := decrypttest.NewAgeKey(t), decrypttest.NewPGPKey(t)
	const badLine = "AGE-SECRET-KEY-1NOTAKEY"
	tests := []struct {
		name    string
		data    map[string][]byte
		want    []string
		wantErr string
	}{{
		name: "age and OpenPGP, other keys ignored",
		data: map[string][]byte{"a.agekey": alice.Private, "c.asc": carol.Private, "README": []byte("not a key")},
		want: []string{alice.Recipient, carol.Recipient},
	}, {
		name: "age identities with comments and CRLF",
		data: map[string][]byte{"keys.agekey": []byte("# created by age-keygen\r\n\r\n" + strings.TrimSpace(string(alice.Private)) + "\r\n")},
		want: []string{alice.Recipient},
	}, {
		name:    "malformed age line",
		data:    map[string][]byte{"keys.agekey": []byte(string(alice.Private) + badLine + "\n")},
		wantErr: `key "keys.agekey": line 3 is not an age identity`,
	}, {
		name:    "plugin identity",
		data:    map[string][]byte{"keys.agekey": []byte("AGE-PLUGIN-YUBIKEY-1QQQ\n")},
		wantErr: `key "keys.agekey": line 1 is not an age identity`,
	}, {
		name:    "empty age key",
		data:    map[string][]byte{"keys.agekey": []byte("# nothing\n")},
		wantErr: `key "keys.agekey": holds no age identity`,
	}, {
		name:    "not OpenPGP",
		data:    map[string][]byte{"keys.asc": []byte(badLine)},
		wantErr: `key "keys.asc": is not an armored OpenPGP key`,
	}, {
		name:    "OpenPGP public key",
		data:    map[string][]byte{"keys.asc": reexport(t, carol, openpgp.PublicKeyType, publicOnly)},
		wantErr: "is a public key; the private key is needed",
	}, {
		name:    "OpenPGP key with a passphrase",
		data:    map[string][]byte{"keys.asc": reexport(t, carol, openpgp.PrivateKeyType, withPassphrase)},
		wantErr: "is protected by a passphrase; export it without one",
	}, {
		name:    "no key",
		data:    map[string][]byte{"username": []byte("admin")},
		wantErr: `no key ends in ".agekey" or ".asc"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := decrypt.ParseKeys(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), badLine) || strings.Contains(err.Error(), "AGE-SECRET-KEY-1") {
					t.Errorf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := keys.Recipients(); !slices.Equal(got, tt.want) {
				t.Errorf("recipients %v, want %v", got, tt.want)
			}
		})
	}
}

// reexport returns an OpenPGP key written again by write, as another gpg
// export would give it.
func reexport(t *testing.T, k decrypttest.Key, blockType string, write func(*openpgp.Entity, io.Writer) error) []byte {
	t.Helper()
	entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(k.Private))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(entities[0], w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func publicOnly(e *openpgp.Entity, w io.Writer) error { return e.Serialize(w) }

func withPassphrase(e *openpgp.Entity, w io.Writer) error {
	if err := e.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		return err
	}
	return e.SerializePrivateWithoutSigning(w, nil)
}

// TestKeysJSON hands keys over as a render worker receives them, and
// expects them to decrypt what the originals decrypt.
func TestKeysJSON(t *testing.T) {
	alice, carol := decrypttest.NewAgeKey(t), decrypttest.NewPGPKey(t)
	keys, err := decrypt.ParseKeys(map[string][]byte{"a.agekey": alice.Private, "c.asc": carol.Private, "other": []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	var got decrypt.Keys
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Recipients(), keys.Recipients()) {
		t.Errorf("recipients after JSON = %v, want %v", got.Recipients(), keys.Recipients())
	}
}
