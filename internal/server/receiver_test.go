package server

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/metrics"
)

const testSecret = "hook-secret-7d2f"

// recordingRefresher remembers the Applications it was asked to refresh.
type recordingRefresher struct {
	mu   sync.Mutex
	apps []string
}

func (r *recordingRefresher) Refresh(_ context.Context, app *weirv1.Application) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.apps = append(r.apps, app.Namespace+"/"+app.Name)
	return nil
}

// countingReader counts the reads of the objects it serves.
type countingReader struct {
	client.Reader
	reads atomic.Int32
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.reads.Add(1)
	return r.Reader.Get(ctx, key, obj, opts...)
}

// fixture is a Receiver over a fake cluster holding the webhook Secret and
// Applications of two repositories.
type fixture struct {
	handler   http.Handler
	refresher *recordingRefresher
	secrets   *countingReader
	registry  *prometheus.Registry
	// invalidated are the URLs the receiver invalidated, in order.
	invalidated []string
}

func application(name, url string, ref weirv1.GitRef) *weirv1.Application {
	return &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec:       weirv1.ApplicationSpec{Source: weirv1.GitSource{URL: url, Ref: ref}},
	}
}

func newFixture(t testing.TB, objs ...client.Object) *fixture {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, weirv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	objs = append(objs,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "weir-system", Name: "webhook"}, Data: map[string][]byte{SecretKey: []byte(testSecret)}},
		application("web", "https://github.com/shop/deploy.git", weirv1.GitRef{}),
		application("api", "git@github.com:shop/deploy", weirv1.GitRef{Branch: "main"}),
		application("staging", "https://github.com/shop/deploy", weirv1.GitRef{Branch: "staging"}),
		application("pinned", "https://github.com/shop/deploy", weirv1.GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"}),
		application("other", "https://github.com/shop/other.git", weirv1.GitRef{}),
	)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithIndex(&weirv1.Application{}, sourceIndex, sourceKeys).Build()
	reg := prometheus.NewRegistry()
	rec, err := metrics.NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{refresher: &recordingRefresher{}, secrets: &countingReader{Reader: c}, registry: reg}
	f.handler = NewReceiver(Config{
		Invalidate:   func(url string) { f.invalidated = append(f.invalidated, url) },
		Applications: c,
		Secrets:      f.secrets,
		Secret:       client.ObjectKey{Namespace: "weir-system", Name: "webhook"},
		Refresher:    f.refresher,
		Metrics:      rec,
		Log:          logr.Discard(),
	})
	return f
}

// post sends body to path with header and decodes the answer.
func (f *fixture) post(t *testing.T, path string, header http.Header, body []byte) (int, Response) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header = header
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, req)
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %q is not JSON: %v", w.Body.String(), err)
	}
	return w.Code, resp
}

func githubPush(ref string) []byte {
	return []byte(`{"ref": "` + ref + `", "repository": {"clone_url": "https://github.com/shop/deploy.git", "ssh_url": "git@github.com:shop/deploy.git"}}`)
}

func signedGitHub(event string, body []byte) http.Header {
	return http.Header{"X-Github-Event": {event}, "X-Hub-Signature-256": {"sha256=" + sign(body, testSecret)}}
}

func TestAPushRefreshesTheApplicationsTrackingItsBranch(t *testing.T) {
	f := newFixture(t)
	body := githubPush("refs/heads/main")
	code, resp := f.post(t, "/hooks/github", signedGitHub("push", body), body)
	want := []string{"shop/api", "shop/web"}
	if code != http.StatusAccepted || !slices.Equal(resp.Refreshed, want) {
		t.Errorf("answer = %d %+v, want 202 refreshing %v", code, resp, want)
	}
	slices.Sort(f.refresher.apps)
	if !slices.Equal(f.refresher.apps, want) {
		t.Errorf("refreshed %v, want %v", f.refresher.apps, want)
	}
	// What was listed of the repository before the push is not reused.
	slices.Sort(f.invalidated)
	if wantURLs := []string{"git@github.com:shop/deploy", "https://github.com/shop/deploy.git"}; !slices.Equal(f.invalidated, wantURLs) {
		t.Errorf("invalidated %v, want %v", f.invalidated, wantURLs)
	}
}

func TestRequestsThatAreNotAcceptedRefreshNothing(t *testing.T) {
	push := githubPush("refs/heads/main")
	malformed := []byte(`{"ref": "refs/heads/main", "repository":`)
	tests := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		body    []byte
		code    int
		outcome string
	}{
		{"unsigned", http.MethodPost, "/hooks/github", http.Header{"X-Github-Event": {"push"}}, push, http.StatusUnauthorized, metrics.OutcomeUnauthorized},
		{"wrongly signed", http.MethodPost, "/hooks/github", http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=" + sign(push, "guess")}}, push, http.StatusUnauthorized, metrics.OutcomeUnauthorized},
		{"signed for another body", http.MethodPost, "/hooks/github", signedGitHub("push", githubPush("refs/heads/staging")), push, http.StatusUnauthorized, metrics.OutcomeUnauthorized},
		{"a ping", http.MethodPost, "/hooks/github", signedGitHub("ping", push), push, http.StatusOK, metrics.OutcomeIgnored},
		{"malformed JSON", http.MethodPost, "/hooks/github", signedGitHub("push", malformed), malformed, http.StatusBadRequest, metrics.OutcomeBadRequest},
		{"a GET", http.MethodGet, "/hooks/github", signedGitHub("push", push), push, http.StatusMethodNotAllowed, metrics.OutcomeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			req := httptest.NewRequest(tt.method, tt.path, bytes.NewReader(tt.body))
			req.Header = tt.header
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			if w.Code != tt.code {
				t.Errorf("status = %d (%s), want %d", w.Code, w.Body, tt.code)
			}
			if len(f.refresher.apps) > 0 {
				t.Errorf("refreshed %v", f.refresher.apps)
			}
			if got, want := requests(t, f.registry), map[string]float64{"github/" + tt.outcome: 1}; !maps.Equal(got, want) {
				t.Errorf("weir_webhook_requests_total = %v, want %v", got, want)
			}
		})
	}
}

func TestEachProviderRefreshesThroughItsOwnPath(t *testing.T) {
	gitlab := readPayload(t, "gitlab-push.json")
	gitea := readPayload(t, "gitea-push.json")
	generic := readPayload(t, "generic-push.json")
	f := newFixture(t,
		application("gl", "git@gitlab.example.com:shop/deploy.git", weirv1.GitRef{}),
		application("gt", "https://codeberg.org/shop/deploy", weirv1.GitRef{Branch: "release"}),
		application("gn", "https://git.example.com/shop/deploy", weirv1.GitRef{}),
	)
	tests := []struct {
		path   string
		header http.Header
		body   []byte
		want   string
	}{
		{"/hooks/gitlab", http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {testSecret}}, gitlab, "shop/gl"},
		{"/hooks/gitea", http.Header{"X-Forgejo-Event": {"push"}, "X-Forgejo-Signature": {sign(gitea, testSecret)}}, gitea, "shop/gt"},
		{"/hooks/generic", http.Header{"X-Weir-Signature": {"sha256=" + sign(generic, testSecret)}}, generic, "shop/gn"},
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

func TestTheSecretIsReadOncePerTTL(t *testing.T) {
	f := newFixture(t)
	body := githubPush("refs/heads/main")
	for range 20 {
		if code, resp := f.post(t, "/hooks/github", signedGitHub("push", body), body); code != http.StatusAccepted {
			t.Fatalf("answer = %d %+v", code, resp)
		}
	}
	if n := f.secrets.reads.Load(); n != 1 {
		t.Errorf("the Secret was read %d times for 20 requests, want once", n)
	}
}

func TestAnUnreadableSecretRefusesEverything(t *testing.T) {
	tests := []struct {
		name   string
		secret *corev1.Secret
	}{
		{"no Secret", nil},
		{"no token key", &corev1.Secret{Data: map[string][]byte{"password": []byte(testSecret)}}},
		{"an empty token", &corev1.Secret{Data: map[string][]byte{SecretKey: {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []client.Object
			if tt.secret != nil {
				tt.secret.Namespace, tt.secret.Name = "weir-system", "misconfigured"
				objs = append(objs, tt.secret)
			}
			f := newFixture(t, objs...)
			f.handler.(*Receiver).secret.key.Name = "misconfigured"
			body := githubPush("refs/heads/main")
			code, resp := f.post(t, "/hooks/github", signedGitHub("push", body), body)
			if code != http.StatusInternalServerError || resp.Outcome != metrics.OutcomeError || len(f.refresher.apps) > 0 {
				t.Errorf("answer = %d %+v, refreshed %v; want 500 and nothing refreshed", code, resp, f.refresher.apps)
			}
		})
	}
}

// requests reads weir_webhook_requests_total from reg, by
// "provider/outcome".
func requests(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, fam := range families {
		if fam.GetName() != "weir_webhook_requests_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["provider"]+"/"+labels["outcome"]] = m.GetCounter().GetValue()
		}
	}
	return counts
}
