package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/decrypt/decrypttest"
)

// TestRenderDecrypts renders a checkout whose files are encrypted as users
// encrypt them, with the decrypt package's Decryptor.
func TestRenderDecrypts(t *testing.T) {
	alice := decrypttest.NewAgeKey(t)
	root := sopsTree(t, alice)
	bob := decrypttest.NewAgeKey(t)
	tests := []struct {
		name      string
		path      string
		decrypter Decrypter
		want      []string
		golden    string
		wantErr   string
	}{{
		name:      "plain directory",
		path:      "plain",
		decrypter: decryptor(t, alice),
		want:      []string{"Secret db", "ConfigMap settings"},
	}, {
		name:      "kustomize overlay changing names, namespace and labels; secretGenerator files",
		path:      "overlay",
		decrypter: decryptor(t, alice),
		golden:    "sops-overlay",
	}, {
		name:      "wrong key",
		path:      "overlay",
		decrypter: decryptor(t, bob),
		wantErr:   "render overlay: decrypt base/db.enc.yaml: no key of the decryption Secret opens it",
	}, {
		name:      "no keys",
		path:      "plain",
		decrypter: decrypt.New(nil),
		wantErr:   "render plain: decrypt plain/db.enc.yaml: the file is SOPS-encrypted, but the Application sets no spec.decryption",
	}, {
		name:      "configMapGenerator of an encrypted file",
		path:      "config-generator",
		decrypter: decryptor(t, alice),
		wantErr:   "render config-generator: decrypt config-generator/app.enc.env: document 1 is not a Kubernetes object",
	}, {
		name:    "no decrypter",
		path:    "plain",
		wantErr: "render plain/db.enc.yaml:1: document 1: Secret db: has SOPS metadata: it is encrypted and was not decrypted",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Render(t.Context(), root, tt.path, Options{Decrypter: tt.decrypter})
			if tt.wantErr != "" {
				checkError(t, root, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.golden != "" {
				checkGolden(t, filepath.Join("testdata", tt.golden+".golden.yaml"), objs)
			}
			if tt.want != nil && !slices.Equal(ids(objs), tt.want) {
				t.Errorf("got %v, want %v", ids(objs), tt.want)
			}
			if out := string(marshal(t, objs)); strings.Contains(out, "ENC[") || strings.Contains(out, "sops") {
				t.Errorf("objects keep SOPS data:\n%s", out)
			}
		})
	}
}

// sopsTree copies testdata/sops and encrypts its files named *.enc.* for
// key, as `sops --encrypt --in-place` would; Secrets with the
// --encrypted-regex of Secrets.
func sopsTree(t *testing.T, key decrypttest.Key) string {
	t.Helper()
	root := copyTree(t, "testdata/sops")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.Contains(d.Name(), ".enc.") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		regex := ""
		if strings.HasSuffix(path, ".yaml") {
			regex = decrypttest.SecretRegex
		}
		return os.WriteFile(path, decrypttest.Encrypt(t, path, data, regex, key), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// decryptor returns a Decryptor with key.
func decryptor(t *testing.T, key decrypttest.Key) *decrypt.Decryptor {
	t.Helper()
	keys, err := decrypt.ParseKeys(map[string][]byte{"test.agekey": key.Private})
	if err != nil {
		t.Fatal(err)
	}
	return decrypt.New(keys)
}
