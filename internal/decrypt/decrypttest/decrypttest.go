// Package decrypttest makes keys and SOPS-encrypted files for tests, in
// memory and with the SOPS library, as `sops --encrypt` would: no key ever
// needs to be committed, and no sops binary to be installed.
package decrypttest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	sops "github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"

	"weir.dev/weir/internal/decrypt"
)

// SecretRegex is what `sops --encrypted-regex` is given for Kubernetes
// Secrets: only data and stringData are encrypted.
const SecretRegex = "^(data|stringData)$"

// Key is a private key and the recipient to encrypt for.
type Key struct {
	// Private is the key as a decryption Secret holds it.
	Private []byte
	// Recipient is the public key that files are encrypted for: an age
	// recipient or an OpenPGP fingerprint.
	Recipient string

	age *age.X25519Identity
	pgp *openpgp.Entity
}

// NewAgeKey returns a new age key.
func NewAgeKey(t testing.TB) Key {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	private := fmt.Sprintf("# public key: %s\n%s\n", id.Recipient(), id)
	return Key{Private: []byte(private), Recipient: id.Recipient().String(), age: id}
}

// NewPGPKey returns a new OpenPGP key without a passphrase, armored.
func NewPGPKey(t testing.TB) Key {
	t.Helper()
	e, err := openpgp.NewEntity("weir test", "", "test@weir.dev", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return Key{Private: buf.Bytes(), Recipient: fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), pgp: e}
}

// Encrypt encrypts plaintext, the content of a file called name (whose
// extension gives the format, as for sops), for the keys. A non-empty
// regex limits encryption to the matching keys, like --encrypted-regex.
func Encrypt(t testing.TB, name string, plaintext []byte, regex string, to ...Key) []byte {
	t.Helper()
	store := decrypt.Store(name)
	branches, err := store.LoadPlainFile(plaintext)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		t.Fatal(err)
	}
	var group sops.KeyGroup
	for _, k := range to {
		group = append(group, k.masterKey(t, dataKey))
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{group},
		EncryptedRegex: regex,
		Version:        "3.13.3",
		LastModified:   time.Now().UTC().Truncate(time.Second),
	}}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		t.Fatalf("encrypt %s: %v", name, err)
	}
	tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatalf("emit %s: %v", name, err)
	}
	return out
}

// masterKey returns the SOPS master key of k with dataKey encrypted for it.
func (k Key) masterKey(t testing.TB, dataKey []byte) keys.MasterKey {
	t.Helper()
	if k.age != nil {
		mk, err := sopsage.MasterKeyFromRecipient(k.Recipient)
		if err != nil {
			t.Fatal(err)
		}
		if err := mk.Encrypt(dataKey); err != nil {
			t.Fatal(err)
		}
		return mk
	}
	mk := pgp.NewMasterKeyFromFingerprint(k.Recipient)
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, "PGP MESSAGE", nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := openpgp.Encrypt(w, []*openpgp.Entity{k.pgp}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Write(dataKey); err != nil {
		t.Fatal(err)
	}
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mk.SetEncryptedDataKey(buf.Bytes())
	return mk
}
