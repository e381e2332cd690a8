package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// testConfig points at no server: the tests here never reach one.
var testConfig = &rest.Config{Host: "https://127.0.0.1:1"}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8089": true, "localhost:8089": true, "[::1]:8089": true, "127.0.0.1": true,
		"evil.example:8089": false, "10.0.0.1:8089": false, "localhost.evil.example": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// A page of weir ui reached by another name (DNS rebinding) is refused.
func TestAnotherHostIsRefused(t *testing.T) {
	s, err := New(Options{Config: testConfig})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://evil.example/", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusMisdirectedRequest {
		t.Errorf("status %d, want 421", w.Code)
	}
}

// A POST without the session's CSRF token is refused before anything is
// done: without a session, with another token, or with none.
func TestActionsWithoutTheCSRFTokenAreRefused(t *testing.T) {
	s, err := New(Options{Config: testConfig})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	sess, err := s.startLocal(w)
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict", cookie)
	}
	for name, tc := range map[string]struct {
		cookie bool
		token  string
	}{
		"no session":  {false, sess.csrf},
		"no token":    {true, ""},
		"wrong token": {true, "forged"},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/logout", strings.NewReader(url.Values{"csrf": {tc.token}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie {
				r.AddCookie(cookie)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != http.StatusForbidden {
				t.Errorf("status %d, want 403", w.Code)
			}
		})
	}
}

// A pasted token is checked before the API server sees it: one token, no
// spaces, at most 16 KiB.
func TestSignInRefusesWhatIsNotOneToken(t *testing.T) {
	s, err := New(Options{Config: testConfig, Login: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"empty":     "",
		"two":       "abc def",
		"a newline": "abc\ndef",
		"too long":  strings.Repeat("a", maxTokenBytes+1),
	} {
		r := httptest.NewRequest(http.MethodPost, "http://ui/login", nil)
		if _, _, _, err := s.signIn(r, token); err == nil || !strings.Contains(err.Error(), "paste one bearer token") {
			t.Errorf("%s: %v, want a refusal before the API server is asked", name, err)
		}
	}
}

// A session may hold maxStreams event streams, each with its watches on
// the API server, and no more.
func TestEventStreamsPerSessionAreBounded(t *testing.T) {
	s, err := New(Options{Config: testConfig})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	sess, err := s.startLocal(w)
	if err != nil {
		t.Fatal(err)
	}
	for range maxStreams {
		if !s.sessions.openStream(sess) {
			t.Fatal("a stream below the bound was refused")
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/events?watch=applications", nil)
	r.AddCookie(w.Result().Cookies()[0])
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("stream %d: status %d, want 429", maxStreams+1, w.Code)
	}
	s.sessions.closeStream(sess)
	if !s.sessions.openStream(sess) {
		t.Error("a stream closed is not given back")
	}
}
