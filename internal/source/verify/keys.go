package verify

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"
)

// AllowedSignersKey is the key of a Secret that holds SSH keys, in
// ssh-keygen's ALLOWED SIGNERS format.
const AllowedSignersKey = "allowed_signers"

// OpenPGPSuffix ends the keys of a Secret that hold armored OpenPGP public
// keys.
const OpenPGPSuffix = ".asc"

// gitNamespace is the SSHSIG namespace git signs commits and tags in.
const gitNamespace = "git"

// Keys are the keys an Application trusts to sign its revisions.
type Keys struct {
	// openPGP holds every trusted OpenPGP key, as one armored key ring;
	// empty for none.
	openPGP string
	ssh     []allowedSigner
}

// allowedSigner is one line of an allowed signers file.
type allowedSigner struct {
	principals string
	key        ssh.PublicKey
	// namespaces the key may sign in; nil for any.
	namespaces []string
}

// ParseKeys reads the trusted keys from a Secret's data: armored OpenPGP
// public keys under every key ending in ".asc" (one armored block each,
// which may hold several keys), SSH keys under "allowed_signers". Other
// keys are ignored. An error names the key of the data, and the line of
// allowed_signers, that does not parse; data with no key at all is an
// error too, as it would trust nothing.
func ParseKeys(data map[string][]byte) (*Keys, error) {
	var ring openpgp.EntityList
	for _, name := range sortedNames(data) {
		if !strings.HasSuffix(name, OpenPGPSuffix) {
			continue
		}
		entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data[name]))
		if err != nil {
			return nil, fmt.Errorf("%s: not an armored OpenPGP public key: %w", name, err)
		}
		ring = append(ring, entities...)
	}
	k := &Keys{}
	if len(ring) > 0 {
		armored, err := armorKeyRing(ring)
		if err != nil {
			return nil, err
		}
		k.openPGP = armored
	}
	if signers, ok := data[AllowedSignersKey]; ok {
		var err error
		if k.ssh, err = parseAllowedSigners(signers); err != nil {
			return nil, fmt.Errorf("%s: %w", AllowedSignersKey, err)
		}
	}
	if k.openPGP == "" && len(k.ssh) == 0 {
		return nil, fmt.Errorf("no trusted key: no key ending in %s and no %s", OpenPGPSuffix, AllowedSignersKey)
	}
	return k, nil
}

// sortedNames are the keys of data in order, so that errors are stable.
func sortedNames(data map[string][]byte) []string {
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// armorKeyRing writes the public parts of ring as one armored key ring,
// what go-git's Verify reads.
func armorKeyRing(ring openpgp.EntityList) (string, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	for _, e := range ring {
		if err := e.Serialize(w); err != nil {
			return "", fmt.Errorf("OpenPGP key %s: %w", e.PrimaryKey.KeyIdString(), err)
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// parseAllowedSigners reads a file in ssh-keygen's ALLOWED SIGNERS format:
// one key a line, as "principals [options] keytype base64-key [comment]",
// with blank lines and lines starting with # ignored. Of the options,
// namespaces="..." is honoured; cert-authority, valid-after and
// valid-before are refused, as is any other, rather than ignored: a line
// weir would read more loosely than ssh-keygen does not parse. An error
// names the line.
func parseAllowedSigners(data []byte) ([]allowedSigner, error) {
	var signers []allowedSigner
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseAllowedSigner(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		signers = append(signers, s)
	}
	if len(signers) == 0 {
		return nil, errors.New("no key")
	}
	return signers, nil
}

// parseAllowedSigner reads one line of an allowed signers file.
func parseAllowedSigner(line string) (allowedSigner, error) {
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return allowedSigner{}, errors.New("want principals and a key")
	}
	principals, rest := line[:i], line[i+1:]
	key, _, options, extra, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return allowedSigner{}, fmt.Errorf("principals %s: %w", principals, err)
	}
	if len(bytes.TrimSpace(extra)) > 0 {
		return allowedSigner{}, fmt.Errorf("principals %s: more than one key on the line", principals)
	}
	s := allowedSigner{principals: principals, key: key}
	for _, opt := range options {
		name, value, _ := strings.Cut(opt, "=")
		if !strings.EqualFold(name, "namespaces") {
			return allowedSigner{}, fmt.Errorf("principals %s: option %s is not supported", principals, name)
		}
		s.namespaces = strings.Split(strings.Trim(value, `"`), ",")
	}
	return s, nil
}

// allows reports whether s may sign in namespace: whether it matches one
// of the patterns (with * and ?) of the namespaces option.
func (s allowedSigner) allows(namespace string) bool {
	if s.namespaces == nil {
		return true
	}
	for _, pattern := range s.namespaces {
		if ok, _ := path.Match(strings.TrimSpace(pattern), namespace); ok {
			return true
		}
	}
	return false
}
