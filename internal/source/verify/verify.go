package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
)

// Armor lines that start the signatures git writes.
const (
	sshArmor  = "-----BEGIN SSH SIGNATURE-----"
	x509Armor = "-----BEGIN SIGNED MESSAGE-----"
)

// Verify checks the signatures that v asks for on a's objects: the
// annotated tag's (mode Tag), the commit's (mode HEAD), or both
// (TagAndHEAD). It returns the signers found, as "commit <hash> by <key>",
// or an error that names the object, the key that signed it if any, and
// why it is not trusted.
func (k *Keys) Verify(a source.Artifact, v *weirv1.GitVerification) (string, error) {
	var signers []string
	if v.VerifiesTag() {
		signer, err := k.verifyTag(a)
		if err != nil {
			return "", err
		}
		signers = append(signers, signer)
	}
	if v.VerifiesHEAD() {
		signer, err := k.verifyCommit(a)
		if err != nil {
			return "", err
		}
		signers = append(signers, signer)
	}
	return strings.Join(signers, ", "), nil
}

// signed is a commit or a tag.
type signed interface {
	Verify(armoredKeyRing string) (*openpgp.Entity, error)
	EncodeWithoutSignature(o plumbing.EncodedObject) error
}

// verifyCommit checks the commit's signature.
func (k *Keys) verifyCommit(a source.Artifact) (string, error) {
	what := "commit " + a.Commit
	if a.Objects.Commit == "" {
		return "", fmt.Errorf("%s is larger than %d bytes and is not verified", what, source.MaxSignedObject)
	}
	c := &object.Commit{}
	if err := c.Decode(memoryObject(plumbing.CommitObject, a.Objects.Commit)); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return k.check(what, c, c.PGPSignature)
}

// verifyTag checks the annotated tag's signature.
func (k *Keys) verifyTag(a source.Artifact) (string, error) {
	if a.Objects.Tag == "" {
		return "", fmt.Errorf("revision %s is not an annotated tag of at most %d bytes, so it carries no signature to verify", a.Revision, source.MaxSignedObject)
	}
	t := &object.Tag{}
	if err := t.Decode(memoryObject(plumbing.TagObject, a.Objects.Tag)); err != nil {
		return "", fmt.Errorf("tag of revision %s: %w", a.Revision, err)
	}
	what := "tag " + t.Name
	if t.TargetType != plumbing.CommitObject || t.Target.String() != a.Commit {
		return "", fmt.Errorf("%s points to %s %s, not to commit %s", what, t.TargetType, t.Target, a.Commit)
	}
	return k.check(what, t, t.PGPSignature)
}

// memoryObject holds raw as an object of type typ.
func memoryObject(typ plumbing.ObjectType, raw string) plumbing.EncodedObject {
	obj := &plumbing.MemoryObject{}
	obj.SetType(typ)
	_, _ = obj.Write([]byte(raw))
	return obj
}

// check verifies obj's signature sig, the object described by what.
func (k *Keys) check(what string, obj signed, sig string) (string, error) {
	switch {
	case strings.TrimSpace(sig) == "":
		return "", fmt.Errorf("%s is not signed", what)
	case strings.HasPrefix(sig, sshArmor):
		return k.checkSSH(what, obj, sig)
	case strings.HasPrefix(sig, x509Armor):
		return "", fmt.Errorf("%s has an X.509 signature, which weir does not verify", what)
	}
	return k.checkOpenPGP(what, obj, sig)
}

// checkOpenPGP verifies an OpenPGP signature with go-git.
func (k *Keys) checkOpenPGP(what string, obj signed, sig string) (string, error) {
	if k.openPGP == "" {
		return "", fmt.Errorf("%s has an OpenPGP signature by key %s, and no OpenPGP key is trusted", what, issuer(sig))
	}
	entity, err := obj.Verify(k.openPGP)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "", fmt.Errorf("%s is signed by OpenPGP key %s, which is not trusted", what, issuer(sig))
	case err != nil:
		return "", fmt.Errorf("%s has an OpenPGP signature by key %s that does not verify: %w", what, issuer(sig), err)
	}
	return fmt.Sprintf("%s by OpenPGP key %s", what, entity.PrimaryKey.KeyIdString()), nil
}

// issuer names the key that made an armored OpenPGP signature, as far as
// the signature says.
func issuer(sig string) string {
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil {
		return "(unreadable)"
	}
	p, err := packet.Read(block.Body)
	s, ok := p.(*packet.Signature)
	switch {
	case err != nil || !ok:
		return "(unreadable)"
	case s.IssuerFingerprint != nil:
		return fmt.Sprintf("%X", s.IssuerFingerprint)
	case s.IssuerKeyId != nil:
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return "(unnamed)"
}

// checkSSH verifies an SSH signature against the allowed signers, as git
// does: the key that signed must be listed for the namespace "git".
func (k *Keys) checkSSH(what string, obj signed, armored string) (string, error) {
	sig, err := sshsig.Unarmor([]byte(armored))
	if err != nil {
		return "", fmt.Errorf("%s has an SSH signature that does not parse: %w", what, err)
	}
	fingerprint := ssh.FingerprintSHA256(sig.PublicKey)
	signer, ok := k.sshSigner(sig.PublicKey, gitNamespace)
	switch {
	case !ok:
		return "", fmt.Errorf("%s is signed by SSH key %s, which is not trusted", what, fingerprint)
	case !signer.allows(gitNamespace):
		return "", fmt.Errorf("%s is signed by SSH key %s of %s, which allowed_signers does not allow to sign in namespace %q", what, fingerprint, signer.principals, gitNamespace)
	}
	payload := &plumbing.MemoryObject{}
	if err := obj.EncodeWithoutSignature(payload); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	r, err := payload.Reader()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := sshsig.Verify(r, sig, signer.key, sig.HashAlgorithm, gitNamespace); err != nil {
		return "", fmt.Errorf("%s has an SSH signature by key %s of %s that does not verify: %w", what, fingerprint, signer.principals, err)
	}
	return fmt.Sprintf("%s by SSH key %s of %s", what, fingerprint, signer.principals), nil
}

// sshSigner finds the allowed signer of key: the first line that lists
// key for namespace, else the first that lists key.
func (k *Keys) sshSigner(key ssh.PublicKey, namespace string) (allowedSigner, bool) {
	var found allowedSigner
	ok := false
	for _, s := range k.ssh {
		if !bytes.Equal(s.key.Marshal(), key.Marshal()) {
			continue
		}
		if s.allows(namespace) {
			return s, true
		}
		if !ok {
			found, ok = s, true
		}
	}
	return found, ok
}
