package notify

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// request is what a receiver got: the API's request shape.
type request struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Header map[string]string `json:"header"`
	Body   any               `json:"body"`
}

// receiver records the requests it gets and answers status.
func receiver(t *testing.T, status int) (*httptest.Server, <-chan request) {
	t.Helper()
	got := make(chan request, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{Method: r.Method, Path: r.URL.EscapedPath(), Header: map[string]string{}}
		for _, k := range []string{"Authorization", "Private-Token", "Accept", "Content-Type", "X-Github-Api-Version", SignatureHeader} {
			if v := r.Header.Get(k); v != "" {
				req.Header[k] = v
			}
		}
		if err := json.Unmarshal(body, &req.Body); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		got <- req
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func failedSync() Event {
	return Event{Kind: "Application", Namespace: "shop", Name: "web", Application: "web", Reason: "ApplyFailed",
		Severity: weirv1.SeverityError, Message: `Deployment shop/web: spec.replicas: Invalid value: -1`,
		Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567", Time: time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC),
		Suppressed: 3}
}

func TestProvidersSendTheirAPIsRequest(t *testing.T) {
	const repo = "https://git.example.com/acme/shop.git"
	for _, tc := range []struct {
		golden string
		sender func(address string) Sender
	}{
		{"webhook", func(a string) Sender { return &Webhook{poster: testPoster(), Address: a, HMACKey: []byte("key")} }},
		{"slack", func(a string) Sender { return &Slack{poster: testPoster(), Address: a} }},
		{"msteams", func(a string) Sender { return &Teams{poster: testPoster(), Address: a} }},
		{"alertmanager", func(a string) Sender { return &Alertmanager{poster: testPoster(), Address: a} }},
		{"github", func(a string) Sender {
			return &CommitStatus{poster: testPoster(), Host: weirv1.ProviderGitHub, Address: a, Token: "gh-token", Repository: repo}
		}},
		{"gitlab", func(a string) Sender {
			return &CommitStatus{poster: testPoster(), Host: weirv1.ProviderGitLab, Address: a, Token: "gl-token", Repository: "git@gitlab.example.com:acme/team/shop.git"}
		}},
		{"gitea", func(a string) Sender {
			return &CommitStatus{poster: testPoster(), Host: weirv1.ProviderGitea, Address: a, Token: "gt-token", Repository: repo}
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			srv, got := receiver(t, http.StatusCreated)
			if err := tc.sender(srv.URL).Send(t.Context(), failedSync()); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", tc.golden+".json"), <-got)
		})
	}
}

func compareGolden(t *testing.T, path string, got request) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(b) {
		t.Errorf("request differs from %s:\n%s", path, b)
	}
}

func testPoster() poster {
	return poster{client: &http.Client{Timeout: 5 * time.Second}, what: "the receiver"}
}

func TestTheSignatureIsTheBodysHMAC(t *testing.T) {
	// The value of: printf '{"a":1}' | openssl dgst -sha256 -hmac key
	const want = "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
	if got := Sign([]byte("key"), []byte(`{"a":1}`)); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	srv, got := receiver(t, http.StatusOK)
	e := failedSync()
	if err := (&Webhook{poster: testPoster(), Address: srv.URL, HMACKey: []byte("key")}).Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(e)
	if sig := (<-got).Header[SignatureHeader]; sig != Sign([]byte("key"), body) {
		t.Errorf("signature %s is not the body's", sig)
	}
}

func TestRefusalsArePermanentAndErrorsHideTheAddress(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true}, {http.StatusUnauthorized, true}, {http.StatusNotFound, true},
		{http.StatusTooManyRequests, false}, {http.StatusInternalServerError, false}, {http.StatusBadGateway, false},
	} {
		srv, _ := receiver(t, tc.status)
		err := (&Slack{poster: testPoster(), Address: srv.URL + "/services/T000/B000/secret-part"}).Send(context.Background(), failedSync())
		if err == nil || errors.Is(err, ErrPermanent) != tc.permanent {
			t.Errorf("status %d: error %v, want permanent %v", tc.status, err, tc.permanent)
		}
	}
	err := (&Slack{poster: testPoster(), Address: "http://127.0.0.1:1/services/T000/B000/secret-part"}).Send(context.Background(), failedSync())
	if err == nil || strings.Contains(err.Error(), "secret-part") {
		t.Errorf("unreachable receiver: error %v must not name the address", err)
	}
}

func TestCommitStatusNeedsACommitAndARepository(t *testing.T) {
	for _, tc := range []struct{ revision, repo string }{
		{"", "https://github.com/acme/shop"},
		{"main@sha1:abc", "https://github.com/shop"},
	} {
		e := failedSync()
		e.Revision = tc.revision
		err := (&CommitStatus{poster: testPoster(), Host: weirv1.ProviderGitHub, Address: "http://127.0.0.1:1", Repository: tc.repo}).Send(t.Context(), e)
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("revision %q of %s: error %v, want a permanent one", tc.revision, tc.repo, err)
		}
	}
}

func TestCommitStates(t *testing.T) {
	for _, tc := range []struct{ reason, severity, want string }{
		{"Succeeded", weirv1.SeverityInfo, "success"},
		{"Progressing", weirv1.SeverityInfo, "pending"},
		{"StepReached", weirv1.SeverityInfo, "pending"},
		{"AnalysisFailed", weirv1.SeverityError, "failure"},
	} {
		if got := commitState(Event{Reason: tc.reason, Severity: tc.severity}); got != tc.want {
			t.Errorf("%s: state %s, want %s", tc.reason, got, tc.want)
		}
	}
}

func TestRepositoryPaths(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://github.com/acme/shop.git", "acme/shop"},
		{"https://gitlab.com/acme/team/shop", "acme/team/shop"},
		{"ssh://git@gitea.example.com:2222/acme/shop.git", "acme/shop"},
		{"git@github.com:acme/shop.git", "acme/shop"},
		{"https://github.com/acme/shop/", "acme/shop"},
		{"https://github.com/shop", ""},
		{"file:///srv/git/shop", ""}, // no host: no API to tell
	} {
		got, err := repositoryPath(tc.url)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("repositoryPath(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
}

func FuzzRepositoryPath(f *testing.F) {
	for _, seed := range []string{"https://github.com/acme/shop.git", "git@host:a/b", "ssh://h/a/b/c", "a:b", "://", "/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, url string) {
		path, err := repositoryPath(url)
		if err == nil && (!strings.Contains(path, "/") || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/")) {
			t.Errorf("repositoryPath(%q) = %q, not owner/name", url, path)
		}
	})
}
