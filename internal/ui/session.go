package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	sessionCookie = "weir_session"
	// sessionIdle is how long a session lasts unused.
	sessionIdle = 8 * time.Hour
	// maxSessions bounds the sessions kept; the least recently used goes.
	maxSessions = 10000
	// maxStreams bounds a session's open event streams (its open pages),
	// each of which holds watches on the API server.
	maxStreams = 16
)

// session is one browser's: its CSRF token and, once signed in, the
// identity it acts with.
type session struct {
	id   string
	csrf string
	// user names the identity, as the API server knows it ("" before login).
	user string
	// cfg and c read and write as the user; nil before login.
	cfg     *rest.Config
	c       client.WithWatch
	flash   string
	lastUse time.Time
	streams int
}

// sessions are kept in memory: nothing of a user's credentials leaves
// the server, and a restart signs everybody out.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	now  func() time.Time
}

func newSessions() *sessions {
	return &sessions{byID: map[string]*session{}, now: time.Now}
}

// get returns the request's session, or nil.
func (s *sessions) get(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[ck.Value]
	if sess == nil {
		return nil
	}
	if s.now().Sub(sess.lastUse) > sessionIdle {
		delete(s.byID, sess.id)
		return nil
	}
	sess.lastUse = s.now()
	return sess
}

// start makes a new session, replacing old (if any: a login gets a new
// session id, so an id seen before login is worth nothing after), and sets
// its cookie.
func (s *sessions) start(w http.ResponseWriter, old *session, secure bool) *session {
	sess := &session{id: randomToken(), csrf: randomToken(), lastUse: s.now()}
	s.mu.Lock()
	if old != nil {
		delete(s.byID, old.id)
	}
	if len(s.byID) >= maxSessions {
		s.dropOldest()
	}
	s.byID[sess.id] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sess.id, Path: "/",
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
	return sess
}

// end forgets the session and clears its cookie.
func (s *sessions) end(w http.ResponseWriter, sess *session, secure bool) {
	s.mu.Lock()
	delete(s.byID, sess.id)
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
}

func (s *sessions) dropOldest() {
	var oldest *session
	for _, sess := range s.byID {
		if oldest == nil || sess.lastUse.Before(oldest.lastUse) {
			oldest = sess
		}
	}
	delete(s.byID, oldest.id)
}

// validCSRF says whether the form carries the session's CSRF token.
func (sess *session) validCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

// takeFlash returns the message left for the next page, once.
func (s *sessions) takeFlash(sess *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := sess.flash
	sess.flash = ""
	return f
}

// openStream counts an event stream of sess, unless it has maxStreams.
func (s *sessions) openStream(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess.streams >= maxStreams {
		return false
	}
	sess.streams++
	return true
}

func (s *sessions) closeStream(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.streams--
}

func (s *sessions) setFlash(sess *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.flash = msg
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
