package decrypt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
)

// keyServer answers SOPS' requests for a file's data key with one
// Application's keys. It replaces SOPS' own local key service, which reads
// identities from the process environment and the home directory and calls
// cloud KMS with the controller's credentials: with it, one tenant could
// decrypt another's files.
type keyServer struct {
	keys *Keys
}

var _ keyservice.KeyServiceServer = keyServer{}

var (
	errNoAgeKeys = errors.New("the decryption Secret holds no age identity")
	errNoPGPKeys = errors.New("the decryption Secret holds no OpenPGP key")
)

// Decrypt decrypts a data key encrypted for an age recipient or an OpenPGP
// key; other kinds of key are refused.
func (s keyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var plaintext []byte
	var err error
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		plaintext, err = s.decryptAge(k.AgeKey.GetRecipient(), req.GetCiphertext())
	case *keyservice.Key_PgpKey:
		plaintext, err = s.decryptPGP(req.GetCiphertext())
	default:
		err = fmt.Errorf("%T keys are not supported: weir decrypts with age and OpenPGP keys from the Application's Secret", k)
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plaintext}, nil
}

// Encrypt is refused: weir only decrypts.
func (keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("weir does not encrypt")
}

// decryptAge injects the identities into SOPS' age key. Without any, SOPS
// would look for identities in the environment, so none means no attempt.
func (s keyServer) decryptAge(recipient string, ciphertext []byte) ([]byte, error) {
	if len(s.keys.age) == 0 {
		return nil, errNoAgeKeys
	}
	key := &sopsage.MasterKey{Recipient: recipient, EncryptedKey: string(ciphertext)}
	sopsage.ParsedIdentities(s.keys.age).ApplyToMasterKey(key)
	return key.Decrypt()
}

// decryptPGP decrypts an armored OpenPGP message in memory. SOPS' own PGP
// key reads a keyring file or runs gpg, which would put the private keys
// on disk.
func (s keyServer) decryptPGP(ciphertext []byte) ([]byte, error) {
	if len(s.keys.pgp) == 0 {
		return nil, errNoPGPKeys
	}
	block, err := armor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("the OpenPGP data key is not armored: %w", err)
	}
	md, err := openpgp.ReadMessage(block.Body, s.keys.pgp, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("OpenPGP: %w", err)
	}
	return io.ReadAll(md.UnverifiedBody)
}
