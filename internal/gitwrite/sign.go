package gitwrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Signer signs the commits a Reverter writes: given the commit as encoded
// without its signature, it returns the armored signature Git stores in
// the commit's gpgsig header. It is go-git's git.Signer.
type Signer interface {
	Sign(message io.Reader) ([]byte, error)
}

// sshNamespace is the SSHSIG namespace git signs commits in.
const sshNamespace = "git"

// ParseSigningKey reads the private key weir signs its commits with: an
// armored OpenPGP private key ("-----BEGIN PGP PRIVATE KEY BLOCK-----",
// from gpg --export-secret-keys --armor) or an OpenSSH private key
// ("-----BEGIN OPENSSH PRIVATE KEY-----", from ssh-keygen), neither
// protected by a passphrase. Its errors never quote the key.
func ParseSigningKey(key []byte) (Signer, error) {
	if bytes.Contains(key, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		return parseOpenPGPKey(key)
	}
	signer, err := ssh.ParsePrivateKey(key)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, errors.New("the SSH key is protected by a passphrase")
	case err != nil:
		return nil, errors.New("neither an armored OpenPGP private key nor an SSH private key")
	}
	return sshSigner{signer}, nil
}

// parseOpenPGPKey reads an armored OpenPGP private key.
func parseOpenPGPKey(key []byte) (Signer, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil {
		return nil, errors.New("the armored OpenPGP private key does not parse")
	}
	if len(ring) != 1 {
		return nil, fmt.Errorf("want one OpenPGP key, found %d", len(ring))
	}
	e := ring[0]
	if e.PrivateKey == nil {
		return nil, errors.New("the OpenPGP key has no private part")
	}
	if e.PrivateKey.Encrypted {
		return nil, errors.New("the OpenPGP key is protected by a passphrase")
	}
	return openPGPSigner{e}, nil
}

// openPGPSigner signs as gpg does for git: a detached, armored signature.
type openPGPSigner struct{ entity *openpgp.Entity }

func (s openPGPSigner) Sign(message io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, s.entity, message, nil); err != nil {
		return nil, fmt.Errorf("sign with OpenPGP key %s: %w", s.entity.PrimaryKey.KeyIdString(), err)
	}
	return buf.Bytes(), nil
}

// sshSigner signs as ssh-keygen -Y sign -n git does for git.
type sshSigner struct{ signer ssh.Signer }

func (s sshSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.signer, sshsig.HashSHA512, sshNamespace)
	if err != nil {
		return nil, fmt.Errorf("sign with SSH key %s: %w", ssh.FingerprintSHA256(s.signer.PublicKey()), err)
	}
	return []byte(strings.TrimSpace(string(sshsig.Armor(sig))) + "\n"), nil
}
