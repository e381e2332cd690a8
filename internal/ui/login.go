package ui

import (
	"fmt"
	"net/http"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// loginBody is the login page's data.
type loginBody struct {
	Error string
}

// maxTokenBytes bounds a pasted token; OIDC ID tokens are a few KiB.
const maxTokenBytes = 16 << 10

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Login {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	sess := s.sessions.get(r)
	if sess == nil {
		sess = s.sessions.start(w, nil, !s.opts.InsecureCookies)
	}
	s.render(w, r, sess, "login", pageData{Title: "Sign in", Body: loginBody{}})
}

// login checks the pasted token with the API server (a SelfSubjectReview
// says whose it is) and starts a new session acting with it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.get(r)
	if !s.opts.Login || sess == nil || !sess.validCSRF(r) {
		http.Error(w, "Forbidden: the request carries no valid CSRF token.", http.StatusForbidden)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	cfg, c, user, err := s.signIn(r, token)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, sess, "login", pageData{Title: "Sign in", Body: loginBody{Error: err.Error()}})
		return
	}
	next := s.sessions.start(w, sess, !s.opts.InsecureCookies)
	next.cfg, next.c, next.user = cfg, c, user
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) signIn(r *http.Request, token string) (*rest.Config, client.WithWatch, string, error) {
	if token == "" || len(token) > maxTokenBytes || strings.ContainsAny(token, " \r\n\t") {
		return nil, nil, "", fmt.Errorf("paste one bearer token (at most %d KiB, no spaces)", maxTokenBytes>>10)
	}
	// Only the server's address and CA: never the credentials weir runs with.
	cfg := rest.AnonymousClientConfig(s.opts.Config)
	cfg.BearerToken = token
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s.scheme})
	if err != nil {
		return nil, nil, "", err
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(r.Context(), review); err != nil {
		return nil, nil, "", fmt.Errorf("the API server did not accept the token: %s", reasonOf(err))
	}
	return cfg, c, review.Status.UserInfo.Username, nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	s.sessions.end(w, sess, !s.opts.InsecureCookies)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
