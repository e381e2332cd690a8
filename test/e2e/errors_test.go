package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt/decrypttest"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A decrypted value the API server refuses, and quotes in its error.
const refusedSecretValue = 918273645018

// The API server quotes a Secret's value that fails server-side apply's
// conversion (a number in stringData); weir must not copy it into status,
// history, Events or its log.
func TestASecretValueTheAPIServerQuotesIsRedacted(t *testing.T) {
	key := decrypttest.NewAgeKey(t)
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pin: %d\n", refusedSecretValue)
	s := given(t, map[string]string{
		"deploy/db.enc.yaml": string(decrypttest.Encrypt(t, "db.enc.yaml", []byte(secret), decrypttest.SecretRegex, key)),
		"deploy/config.yaml": fixture.ConfigMap("settings", "mode", "production"),
	})
	s.keySecret("sops-keys", key)
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Source.Path = "deploy"
		spec.Decryption = &weirv1.Decryption{Provider: weirv1.DecryptionProviderSOPS, SecretRef: weirv1.LocalObjectReference{Name: "sops-keys"}}
	})
	app := s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "ValidationFailed")
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, "Secret "+s.ns+"/db") || !strings.Contains(msg, "stringData.pin") {
		t.Errorf("Ready message %q does not name the Secret and its field", msg)
	}
	s.checkNoValueShown(map[string]string{"weir get apps": s.weir("get", "apps")}, fmt.Sprint(refusedSecretValue))
}

// A changed Job template is refused as immutable; the API server's error
// quotes the whole pod template as a Go structure. The message names the
// Job and the field, in one bounded line.
func TestAnImmutableFieldIsNamedInOneBoundedLine(t *testing.T) {
	s := given(t, map[string]string{"app/job.yaml": job("migrate", "busybox:1.36")})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "app" })
	s.waitFor("applied once", func(app *weirv1.Application) bool { return len(app.Status.Inventory) == 1 })

	s.commit("new migration image", map[string]string{"app/job.yaml": job("migrate", "busybox:1.37")})
	app := s.waitFor("refusing the changed Job", func(app *weirv1.Application) bool {
		return strings.Contains(conditionMessage(app, weirv1.ReadyCondition), "field is immutable")
	})
	msg := conditionMessage(app, weirv1.ReadyCondition)
	if !strings.Contains(msg, "batch/Job "+s.ns+"/migrate: spec.template: field is immutable") {
		t.Errorf("Ready message %q does not name the Job and its field", msg)
	}
	if len(msg) > 1024 || strings.Contains(msg, "PodTemplateSpec{") {
		t.Errorf("Ready message is %d bytes, or dumps the template: %q", len(msg), msg)
	}
	if apps := s.weir("get", "apps"); len(apps) > 2048 {
		t.Errorf("weir get apps prints %d bytes:\n%s", len(apps), apps)
	}
}

// A failed sync is logged once, with the Application and the reason, not
// at every retry; a new failure is logged again.
func TestAFailedSyncIsLoggedOnce(t *testing.T) {
	s := given(t, map[string]string{"app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: broken-\n"})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "app" })
	s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "RenderFailed")
	logged := func() int {
		n := 0
		for _, line := range strings.Split(controllerLog.String(), "\n") {
			if strings.Contains(line, "sync failed") && strings.Contains(line, s.ns) && strings.Contains(line, "RenderFailed") {
				n++
			}
		}
		return n
	}
	// A few polls later (the interval is one second), still one line.
	s.waitFor("a few more attempts", func(app *weirv1.Application) bool {
		return len(app.Status.History) >= 3
	})
	if n := logged(); n != 1 {
		t.Errorf("the failure is logged %d times, want once:\n%s", n, controllerLog.String())
	}

	s.commit("another mistake", map[string]string{"app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\n"})
	testenv.Eventually(t, 30*time.Second, "the new failure logged", func(context.Context) error {
		if n := logged(); n != 2 {
			return fmt.Errorf("logged %d times", n)
		}
		return nil
	})
}

// job is a Job manifest running image.
func job(name, image string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: %s
`, name, image)
}
