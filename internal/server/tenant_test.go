package server

import (
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/metrics"
)

// Two tenants deploy the same repository, each with a webhook Secret of
// its own.
const tenantA, tenantB = "tenant-a-secret-51c0", "tenant-b-secret-9e4a"

func tenantApplication(namespace, name, secret string) *weirv1.Application {
	app := application(name, "https://github.com/shop/deploy.git", weirv1.GitRef{})
	app.Namespace = namespace
	if secret != "" {
		app.Spec.Source.WebhookSecretRef = &weirv1.LocalObjectReference{Name: secret}
	}
	return app
}

func tenantSecret(namespace, name, token string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string][]byte{SecretKey: []byte(token)}}
}

func newTenantFixture(t *testing.T) *fixture {
	return newFixture(t,
		tenantSecret("team-a", "hook", tenantA), tenantSecret("team-b", "hook", tenantB),
		tenantApplication("team-a", "web", "hook"), tenantApplication("team-a", "api", "hook"),
		tenantApplication("team-a", "untrusting", ""),
		tenantApplication("team-b", "web", "hook"),
		// Names team-b's Secret's name, but in its own namespace, where
		// there is none.
		tenantApplication("team-c", "web", "hook"),
	)
}

func TestATenantsSecretRefreshesOnlyTheApplicationsThatTrustIt(t *testing.T) {
	body := githubPush("refs/heads/main")
	signed := func(secret string) http.Header {
		return http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=" + sign(body, secret)}}
	}
	tests := []struct {
		name   string
		secret string
		want   []string
	}{
		{"tenant A's", tenantA, []string{"team-a/api", "team-a/web"}},
		{"tenant B's", tenantB, []string{"team-b/web"}},
		{"the controller's", testSecret, []string{
			"shop/api", "shop/web", "team-a/api", "team-a/untrusting", "team-a/web", "team-b/web", "team-c/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTenantFixture(t)
			code, resp := f.post(t, "/hooks/github", signed(tt.secret), body)
			if code != http.StatusAccepted || !slices.Equal(resp.Refreshed, tt.want) {
				t.Errorf("answer = %d %+v, want 202 refreshing %v", code, resp, tt.want)
			}
			slices.Sort(f.refresher.apps)
			if !slices.Equal(f.refresher.apps, tt.want) {
				t.Errorf("refreshed %v, want %v", f.refresher.apps, tt.want)
			}
		})
	}
}

func TestATenantsSecretRefreshesNothingElse(t *testing.T) {
	other := []byte(`{"ref": "refs/heads/main", "repository": {"clone_url": "https://github.com/shop/other.git"}}`)
	staging := githubPush("refs/heads/staging")
	tests := []struct {
		name   string
		body   []byte
		secret string
	}{
		{"a guessed secret", githubPush("refs/heads/main"), "guess"},
		{"a repository no tenant Application tracks", other, tenantA},
		{"a branch no tenant Application tracks", staging, tenantA},
		{"a ping", nil, tenantA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTenantFixture(t)
			event := "push"
			if tt.body == nil {
				event, tt.body = "ping", githubPush("refs/heads/main")
			}
			header := http.Header{"X-Github-Event": {event}, "X-Hub-Signature-256": {"sha256=" + sign(tt.body, tt.secret)}}
			code, resp := f.post(t, "/hooks/github", header, tt.body)
			if code != http.StatusUnauthorized || resp.Outcome != metrics.OutcomeUnauthorized || len(f.refresher.apps) > 0 {
				t.Errorf("answer = %d %+v, refreshed %v; want 401 and nothing refreshed", code, resp, f.refresher.apps)
			}
		})
	}
}

func TestTenantsVerifyWithEveryProvider(t *testing.T) {
	gitlab := readPayload(t, "gitlab-push.json")
	gitea := readPayload(t, "gitea-push.json")
	generic := readPayload(t, "generic-push.json")
	trust := func(name, url string) *weirv1.Application {
		app := tenantApplication("team-a", name, "hook")
		app.Spec.Source.URL = url
		return app
	}
	f := newFixture(t, tenantSecret("team-a", "hook", tenantA),
		trust("gl", "git@gitlab.example.com:shop/deploy.git"),
		trust("gn", "https://git.example.com/shop/deploy"),
	)
	gt := trust("gt", "https://codeberg.org/shop/deploy")
	gt.Spec.Source.Ref.Branch = "release"
	if err := f.handler.(*Receiver).cfg.Applications.(client.Client).Create(t.Context(), gt); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		header http.Header
		body   []byte
		want   string
	}{
		{"/hooks/gitlab", http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {tenantA}}, gitlab, "team-a/gl"},
		{"/hooks/gitea", http.Header{"X-Gitea-Event": {"push"}, "X-Gitea-Signature": {sign(gitea, tenantA)}}, gitea, "team-a/gt"},
		{"/hooks/generic", http.Header{"X-Weir-Signature": {"sha256=" + sign(generic, tenantA)}}, generic, "team-a/gn"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, resp := f.post(t, tt.path, tt.header, tt.body)
			if code != http.StatusAccepted || !slices.Equal(resp.Refreshed, []string{tt.want}) {
				t.Errorf("answer = %d %+v, want 202 refreshing %s", code, resp, tt.want)
			}
		})
	}
}

func TestATenantsSecretIsReadOncePerTTL(t *testing.T) {
	f := newTenantFixture(t)
	body := githubPush("refs/heads/main")
	header := http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=" + sign(body, tenantB)}}
	for range 20 {
		if code, resp := f.post(t, "/hooks/github", header, body); code != http.StatusAccepted {
			t.Fatalf("answer = %d %+v", code, resp)
		}
	}
	// The controller's Secret, and team-a's, team-b's and team-c's (absent).
	if n := f.secrets.reads.Load(); n != 4 {
		t.Errorf("Secrets were read %d times for 20 requests, want 4: each once", n)
	}
}
