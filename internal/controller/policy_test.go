package controller

import (
	"strings"
	"testing"

	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/policy"
)

func TestPolicyWarningsQuoteNoSecretValue(t *testing.T) {
	secrets := decrypt.NewRedactor()
	secrets.Add("hunter2-password")
	recorder := record.NewFakeRecorder(1)
	r := &ApplicationReconciler{Recorder: recorder}
	order := planned{warnings: []policy.Violation{{
		Policy:  "no-plain-passwords",
		Object:  weirv1.ObjectRef{Version: "v1", Kind: "Secret", Namespace: "shop", Name: "db"},
		Message: "password hunter2-password is in plain text",
	}}}

	summary := r.reportWarnings(&weirv1.Application{}, desired.State{Secrets: secrets}, order)
	event := <-recorder.Events
	for where, text := range map[string]string{"summary": summary, "event": event} {
		if strings.Contains(text, "hunter2-password") {
			t.Errorf("the %s quotes the secret value: %q", where, text)
		}
		if !strings.Contains(text, "policy no-plain-passwords: Secret shop/db: password") {
			t.Errorf("the %s does not name the policy, the object and the message: %q", where, text)
		}
	}
}
