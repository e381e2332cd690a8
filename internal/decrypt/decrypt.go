package decrypt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	sops "github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"

	"weir.dev/weir/internal/yamlalias"
)

// Decryptor decrypts the SOPS-encrypted files of one Application with its
// Keys, and remembers the values it decrypted so that Redact can keep them
// out of messages. It is safe for concurrent use.
type Decryptor struct {
	keys     *Keys
	services []keyservice.KeyServiceClient
	// secrets holds the decrypted values, to redact.
	secrets *Redactor
}

// New returns a Decryptor that decrypts with keys. With nil keys it
// decrypts nothing: every encrypted file fails, saying that the
// Application has no spec.decryption.
func New(keys *Keys) *Decryptor {
	d := &Decryptor{keys: keys, secrets: NewRedactor()}
	if keys != nil {
		d.services = []keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(keyServer{keys: keys})}
	}
	return d
}

// Error is a file that could not be decrypted. Its message names the file
// and says why, and never quotes a value of the file.
type Error struct {
	// File is the path of the file, as the caller named it.
	File string
	// Err says why.
	Err error
}

func (e *Error) Error() string { return "decrypt " + e.File + ": " + e.Err.Error() }

// Unwrap returns why the file could not be decrypted.
func (e *Error) Unwrap() error { return e.Err }

// errNoDecryption is an encrypted file of an Application without keys.
var errNoDecryption = errors.New("the file is SOPS-encrypted, but the Application sets no spec.decryption")

// Decrypt returns the content of the file name, decrypted when it carries
// SOPS metadata and as it is otherwise. The format follows the name as
// SOPS has it: .yaml/.yml, .json, .env, .ini, anything else binary.
//
// A decrypted manifest must hold only Secrets (apiVersion v1), whose values
// weir never shows; secretSource is set for a file that a kustomize
// secretGenerator reads, which becomes Secret data whatever it holds. A
// file that cannot be decrypted (no key for it, a changed value or MAC)
// fails with an *Error.
func (d *Decryptor) Decrypt(name string, data []byte, secretSource bool) (plaintext []byte, err error) {
	if !Marked(name, data) {
		return data, nil
	}
	defer func() {
		// The stores parse untrusted input: a panic in them fails the
		// file rather than the controller.
		if r := recover(); r != nil {
			plaintext, err = nil, &Error{File: name, Err: errors.New("the SOPS library failed to read it")}
		}
	}()
	if formats.FormatForPath(name) == formats.Yaml {
		if err := yamlalias.Check(data); err != nil {
			return nil, &Error{File: name, Err: err}
		}
	}
	store := Store(name)
	tree, err := store.LoadEncryptedFile(data)
	if errors.Is(err, sops.MetadataNotFound) {
		return data, nil
	}
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("read SOPS file: %w", err)}
	}
	if err := d.decryptTree(&tree); err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if !secretSource {
		if err := onlySecrets(tree.Branches); err != nil {
			return nil, &Error{File: name, Err: err}
		}
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, &Error{File: name, Err: errors.New("the decrypted content cannot be written out in its format")}
	}
	return out, nil
}

// markers find SOPS metadata without parsing: a top-level "sops" key in
// YAML, a "sops" key in JSON (and binary files, which SOPS stores as JSON),
// the MAC line of a dotenv file, the [sops] section of an INI file.
var markers = map[formats.Format]*regexp.Regexp{
	formats.Yaml:   regexp.MustCompile(`(?m)^sops:`),
	formats.Json:   regexp.MustCompile(`"sops"\s*:`),
	formats.Binary: regexp.MustCompile(`"sops"\s*:`),
	formats.Dotenv: regexp.MustCompile(`(?m)^sops_mac=`),
	formats.Ini:    regexp.MustCompile(`(?m)^\[sops\]`),
}

// Marked reports whether data, the content of the file name, may be
// SOPS-encrypted, cheaply and without parsing it: Decrypt parses only
// such files, so that most are never parsed twice.
func Marked(name string, data []byte) bool {
	return markers[formats.FormatForPath(name)].Match(data)
}

// Store returns the SOPS store that reads and writes the file name: by its
// extension, as sops chooses.
func Store(name string) sops.Store {
	switch formats.FormatForPath(name) {
	case formats.Yaml:
		return yaml.NewStore(&config.YAMLStoreConfig{})
	case formats.Json:
		return json.NewStore(&config.JSONStoreConfig{})
	case formats.Dotenv:
		return dotenv.NewStore(&config.DotenvStoreConfig{})
	case formats.Ini:
		return ini.NewStore(&config.INIStoreConfig{})
	default:
		return json.NewBinaryStore(&config.JSONBinaryStoreConfig{})
	}
}

// decryptTree recovers the data key with the Application's keys, decrypts
// the values in place and checks the MAC, as `sops --decrypt` does.
func (d *Decryptor) decryptTree(tree *sops.Tree) error {
	if d.keys == nil {
		return errNoDecryption
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices(d.services, sops.DefaultDecryptionOrder)
	if err != nil {
		return d.noKey(tree.Metadata)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, &recorder{Cipher: cipher, d: d})
	if err != nil {
		return errors.New("a value cannot be decrypted: the file is damaged or was changed after it was encrypted")
	}
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || stored != mac {
		return errors.New("the MAC does not match: the file was changed after it was encrypted")
	}
	return nil
}

// noKey explains that none of the Application's keys opens a file: which
// keys the file is encrypted for, and which the Secret holds (public keys
// only).
func (d *Decryptor) noKey(m sops.Metadata) error {
	var want []string
	for _, group := range m.KeyGroups {
		for _, k := range group {
			want = append(want, k.ToString()+" ("+k.TypeToIdentifier()+")")
		}
	}
	return fmt.Errorf("no key of the decryption Secret opens it: it is encrypted for %s; the Secret holds keys for %s",
		strings.Join(want, ", "), strings.Join(d.keys.Recipients(), ", "))
}

// onlySecrets checks that every document of a decrypted manifest is a
// Secret: the values of other kinds would show in diffs and to everyone who
// may read them.
func onlySecrets(docs sops.TreeBranches) error {
	for i, doc := range docs {
		apiVersion, kind := field(doc, "apiVersion"), field(doc, "kind")
		if apiVersion == "v1" && kind == "Secret" {
			continue
		}
		what := "not a Kubernetes object"
		if kind != "" {
			what = "a " + kind
		}
		return fmt.Errorf("document %d is %s: weir decrypts only Secrets, and the files a kustomize secretGenerator reads", i+1, what)
	}
	return nil
}

// field returns the string value of a top-level key of a document, or "".
func field(doc sops.TreeBranch, key string) string {
	for _, item := range doc {
		if item.Key == key {
			s, _ := item.Value.(string)
			return s
		}
	}
	return ""
}
