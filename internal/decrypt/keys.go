package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
)

// Suffixes of the Secret keys that hold private keys.
const (
	// AgeKeySuffix ends the Secret keys holding age identities, one per
	// line, as age-keygen writes them.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix ends the Secret keys holding armored OpenPGP private
	// keys without a passphrase, as `gpg --export-secret-keys --armor`
	// writes them.
	PGPKeySuffix = ".asc"
)

// Keys are the private keys of one Application, parsed from its Secret.
// Nothing else decrypts its files: not the environment of the process,
// not the home directory, not the cloud identity of the controller.
type Keys struct {
	age []age.Identity
	pgp openpgp.EntityList
	// secret holds the entries of the Secret the keys were parsed from,
	// for MarshalJSON.
	secret map[string][]byte
}

// ParseKeys reads the private keys from the data of a Secret: age
// identities from the keys ending in ".agekey", armored OpenPGP private keys
// from those ending in ".asc"; other keys are ignored. It fails when a key
// holds something else, or when there is no key at all. Errors name the
// Secret's key and the line, never the content.
func ParseKeys(data map[string][]byte) (*Keys, error) {
	keys := &Keys{secret: map[string][]byte{}}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var err error
		switch {
		case strings.HasSuffix(name, AgeKeySuffix):
			err = keys.addAge(data[name])
		case strings.HasSuffix(name, PGPKeySuffix):
			err = keys.addPGP(data[name])
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", name, err)
		}
		keys.secret[name] = data[name]
	}
	if len(keys.age) == 0 && len(keys.pgp) == 0 {
		return nil, fmt.Errorf("no key ends in %q or %q", AgeKeySuffix, PGPKeySuffix)
	}
	return keys, nil
}

// addAge parses age identities, one per line; empty lines and lines
// starting with "#" are skipped. Parsing line by line keeps the library's
// message, which quotes the line, out of the error. Plugin identities are
// refused, as age itself refuses them here: they would run a program.
func (k *Keys) addAge(data []byte) error {
	found := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ids, err := age.ParseIdentities(strings.NewReader(line))
		if err != nil {
			return fmt.Errorf("line %d is not an age identity (AGE-SECRET-KEY-...)", i+1)
		}
		k.age = append(k.age, ids...)
		found++
	}
	if found == 0 {
		return errors.New("holds no age identity")
	}
	return nil
}

// addPGP parses armored OpenPGP private keys.
func (k *Keys) addPGP(data []byte) error {
	entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return errors.New("is not an armored OpenPGP key")
	}
	for _, e := range entities {
		if e.PrivateKey == nil {
			return fmt.Errorf("OpenPGP key %X is a public key; the private key is needed", e.PrimaryKey.Fingerprint)
		}
		if encrypted(e) {
			return fmt.Errorf("OpenPGP key %X is protected by a passphrase; export it without one", e.PrimaryKey.Fingerprint)
		}
	}
	k.pgp = append(k.pgp, entities...)
	return nil
}

// encrypted reports whether any private key of e needs a passphrase.
func encrypted(e *openpgp.Entity) bool {
	if e.PrivateKey.Encrypted {
		return true
	}
	for _, sub := range e.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// Recipients lists the public keys that match the private keys, as SOPS
// names them in a file's metadata: age recipients and OpenPGP fingerprints.
func (k *Keys) Recipients() []string {
	if k == nil {
		return nil
	}
	var out []string
	for _, id := range k.age {
		switch id := id.(type) {
		case *age.X25519Identity:
			out = append(out, id.Recipient().String())
		case *age.HybridIdentity:
			out = append(out, id.Recipient().String())
		}
	}
	for _, e := range k.pgp {
		out = append(out, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
	}
	return out
}
