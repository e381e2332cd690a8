package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/server"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

func TestATenantsWebhookSecretRefreshesItsApplicationsOnly(t *testing.T) {
	const tokenA, tokenB = "tenant-a-token-0c41", "tenant-b-token-77fe"
	a := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "hi")})
	b := &story{t: t, repo: a.repo, ns: testenv.Namespace(t), c: a.c}
	a = a.hourly("shop", "", weirv1.GitRef{}).trustingWebhookSecret("hook", tokenA)
	b = b.hourly("shop", "", weirv1.GitRef{}).trustingWebhookSecret("hook", tokenB)
	first := a.repo.Head()
	a.thenApplied(first)
	b.thenApplied(first)
	pushed := a.commit("louder", map[string]string{"cm.yaml": fixture.ConfigMap("hello", "greeting", "HI")})

	// A push signed with a guess refreshes nothing, and says why.
	code, resp := postGitHubPush(t, a.repo.URL(), "refs/heads/main", "a-guessed-token")
	if code != http.StatusUnauthorized || len(resp.Refreshed) > 0 || !strings.Contains(resp.Message, "X-Hub-Signature-256 does not match the body") {
		t.Fatalf("a wrongly signed push got %d %+v, want 401 saying the signature does not match", code, resp)
	}
	if !strings.Contains(controllerLog.String(), "webhook refused") {
		t.Error("the controller did not log the refused push")
	}

	// Tenant A's secret refreshes A's Application, not B's.
	code, resp = postGitHubPush(t, a.repo.URL(), "refs/heads/main", tokenA)
	if want := []string{a.ns + "/shop"}; code != http.StatusAccepted || !slices.Equal(resp.Refreshed, want) {
		t.Fatalf("a push signed with tenant A's secret got %d %+v, want 202 refreshing %v", code, resp, want)
	}
	a.thenApplied(pushed)
	b.staysAt(first, 3*time.Second)

	code, resp = postGitHubPush(t, a.repo.URL(), "refs/heads/main", tokenB)
	if want := []string{b.ns + "/shop"}; code != http.StatusAccepted || !slices.Equal(resp.Refreshed, want) {
		t.Fatalf("a push signed with tenant B's secret got %d %+v, want 202 refreshing %v", code, resp, want)
	}
	b.thenApplied(pushed)
	for _, token := range []string{tokenA, tokenB} {
		if strings.Contains(controllerLog.String(), token) {
			t.Errorf("the controller logged a tenant's webhook token")
		}
	}
}

// trustingWebhookSecret creates a Secret name holding token in the story's
// namespace and names it in the Application's webhookSecretRef.
func (s *story) trustingWebhookSecret(name, token string) *story {
	s.t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		Data:       map[string][]byte{server.SecretKey: []byte(token)},
	}
	if err := s.c.Create(ctx, secret); err != nil {
		s.t.Fatalf("create Secret %s: %v", name, err)
	}
	before := s.app.DeepCopy()
	s.app.Spec.Source.WebhookSecretRef = &weirv1.LocalObjectReference{Name: name}
	if err := s.c.Patch(ctx, s.app, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("name the webhook Secret in Application %s: %v", s.app.Name, err)
	}
	return s
}
