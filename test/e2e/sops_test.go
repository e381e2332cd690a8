package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt/decrypttest"
	"weir.dev/weir/test/fixture"
)

// Values that live encrypted in Git, and one typed into the cluster by hand.
const (
	dbPassword   = "sops-db-password-5f3a1c"
	apiToken     = "sops-api-token-9e7d2b"
	livePassword = "hand-typed-password-0c4e"
)

func TestSOPSEncryptedSecretsSyncWithTheApplicationsKey(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	s := given(t, encryptedOverlay(t, key))
	s.keySecret("sops-keys", key)
	s.whenApplication(decryptOverlay("sops-keys"))
	s.thenApplied(s.repo.Head())

	// The cluster holds the plaintext, under the overlay's names.
	var db, api corev1.Secret
	s.get(&db, "prod-db")
	s.get(&api, "prod-api-env")
	if got := string(db.Data["password"]); got != dbPassword {
		t.Errorf("Secret prod-db password = %q, want the decrypted value", got)
	}
	if got := string(api.Data["API_TOKEN"]); got != apiToken {
		t.Errorf("Secret prod-api-env API_TOKEN = %q, want the decrypted value", got)
	}
	if db.Labels["team"] != "shop" {
		t.Errorf("Secret prod-db labels = %v, want the overlay's team=shop", db.Labels)
	}

	// Someone changes the password by hand: weir diff says that it
	// differs, never what either value is.
	s.editSecret("prod-db", "password", livePassword)
	diff := s.weir("diff", "shop")
	if !strings.Contains(diff, "password: '*** (changed)'") {
		t.Errorf("weir diff does not show that the password differs:\n%s", diff)
	}
	s.checkNoValueShown(map[string]string{"weir diff": diff}, dbPassword, apiToken, livePassword)
}

func TestSOPSWithTheWrongKeyAppliesNothing(t *testing.T) {
	right, wrong := decrypttest.NewAgeKey(t), decrypttest.NewAgeKey(t)
	s := given(t, encryptedOverlay(t, right))
	s.keySecret("sops-keys", wrong)
	s.whenApplication(decryptOverlay("sops-keys"))

	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "DecryptionFailed")
	msg := conditionMessage(app, weirv1.StalledCondition)
	for _, want := range []string{"base/db.enc.yaml", "no key of the decryption Secret opens it", right.Recipient} {
		if !strings.Contains(msg, want) {
			t.Errorf("Stalled message %q does not say %q", msg, want)
		}
	}
	// Nothing of the set is applied, not even the plain ConfigMap.
	for _, obj := range []struct {
		name string
		obj  client.Object
	}{{"prod-settings", &corev1.ConfigMap{}}, {"prod-db", &corev1.Secret{}}, {"prod-api-env", &corev1.Secret{}}} {
		err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: obj.name}, obj.obj)
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s exists (err %v): a set that does not decrypt must apply nothing", obj.name, err)
		}
	}

	// The right key in the Secret lets the next sync through.
	s.keySecret("sops-keys", right)
	s.thenApplied(s.repo.Head())
	var db corev1.Secret
	s.get(&db, "prod-db")
	if got := string(db.Data["password"]); got != dbPassword {
		t.Errorf("Secret prod-db password = %q once the key is right, want the decrypted value", got)
	}
	s.checkNoValueShown(nil, dbPassword, apiToken)
}

// encryptedOverlay is a repository with a kustomize overlay (name prefix,
// labels) of a base holding a SOPS-encrypted Secret, a secretGenerator
// reading an encrypted dotenv file, and a plain ConfigMap, encrypted for key
// as `sops --encrypt` would.
func encryptedOverlay(t *testing.T, key decrypttest.Key) map[string]string {
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + dbPassword + "\n"
	return map[string]string{
		"base/kustomization.yaml": `resources:
  - db.enc.yaml
  - settings.yaml
secretGenerator:
  - name: api-env
    envs:
      - api.enc.env
generatorOptions:
  disableNameSuffixHash: true
`,
		"base/db.enc.yaml":   string(decrypttest.Encrypt(t, "db.enc.yaml", []byte(secret), decrypttest.SecretRegex, key)),
		"base/api.enc.env":   string(decrypttest.Encrypt(t, "api.enc.env", []byte("API_TOKEN="+apiToken+"\n"), "", key)),
		"base/settings.yaml": fixture.ConfigMap("settings", "mode", "production"),
		"overlay/kustomization.yaml": `namePrefix: prod-
labels:
  - pairs:
      team: shop
resources:
  - ../base
`,
	}
}

// decryptOverlay has the Application render the overlay, decrypting with
// the keys of the Secret secret.
func decryptOverlay(secret string) func(*weirv1.ApplicationSpec) {
	return func(spec *weirv1.ApplicationSpec) {
		spec.Source.Path = "overlay"
		spec.Decryption = &weirv1.Decryption{
			Provider:  weirv1.DecryptionProviderSOPS,
			SecretRef: weirv1.LocalObjectReference{Name: secret},
		}
	}
}

// keySecret creates or replaces the Secret name holding key, as
// `kubectl create secret generic name --from-file=age.agekey` does.
func (s *story) keySecret(name string, key decrypttest.Key) {
	s.t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}}
	data := map[string][]byte{"age.agekey": key.Private}
	ctx := context.Background()
	err := s.c.Get(ctx, client.ObjectKeyFromObject(secret), secret)
	switch {
	case apierrors.IsNotFound(err):
		secret.Data = data
		err = s.c.Create(ctx, secret)
	case err == nil:
		secret.Data = data
		err = s.c.Update(ctx, secret)
	}
	if err != nil {
		s.t.Fatalf("Secret %s: %v", name, err)
	}
}
