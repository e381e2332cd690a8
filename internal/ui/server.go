package ui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/livediff"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure a Server.
type Options struct {
	// Config locates the API server. Without Login its credentials are
	// the user's, and every session uses them (weir ui on a laptop).
	Config *rest.Config
	// Login asks each browser for a bearer token (a ServiceAccount's or
	// an OIDC ID token) and acts with it alone: Config's own credentials
	// are never used (weir ui in a cluster).
	Login bool
	// InsecureCookies leaves the Secure flag off the session cookie, for
	// a server reached over plain HTTP on a name other than localhost.
	InsecureCookies bool
	// Diff says where the live diff caches sources and whether it may
	// read file:// URLs (only on the user's own disk).
	Diff livediff.Options
	// Log receives the server's errors; nil discards them.
	Log *slog.Logger
}

// Server serves the UI. It is an http.Handler.
type Server struct {
	opts     Options
	scheme   *runtime.Scheme
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
	log      *slog.Logger
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("ui: no client configuration")
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := weirv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, scheme: scheme, sessions: newSessions(), pages: pages, log: log}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.user(s.logout))
	mux.HandleFunc("GET /{$}", s.user(s.applicationsPage))
	mux.HandleFunc("GET /events", s.user(s.events))
	mux.HandleFunc("GET /apps/{namespace}/{name}", s.user(s.applicationPage))
	mux.HandleFunc("GET /apps/{namespace}/{name}/diff", s.user(s.diffPage))
	mux.HandleFunc("POST /apps/{namespace}/{name}/{action}", s.user(s.applicationAction))
	mux.HandleFunc("GET /rollouts/{namespace}/{name}", s.user(s.rolloutPage))
	mux.HandleFunc("POST /rollouts/{namespace}/{name}/{action}", s.user(s.rolloutAction))
	s.mux = mux
}

// ServeHTTP checks the Host (a page on 127.0.0.1 must not be reachable
// by a DNS name an attacker controls), sets the security headers and
// routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Login && !loopbackHost(r.Host) {
		http.Error(w, "weir ui answers only on 127.0.0.1, ::1 and localhost", http.StatusMisdirectedRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// handler is a page or action of a signed-in session.
type handler func(w http.ResponseWriter, r *http.Request, sess *session)

// user runs h with the request's session: without Login a session is
// started with the kubeconfig's identity; with it, a browser that has not
// signed in is sent to the login page.
func (s *Server) user(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.sessions.get(r)
		if sess == nil || sess.c == nil {
			if s.opts.Login {
				if r.Method == http.MethodGet && r.URL.Path != "/events" {
					http.Redirect(w, r, "/login", http.StatusSeeOther)
					return
				}
				http.Error(w, "Sign in first.", http.StatusUnauthorized)
				return
			}
			if r.Method != http.MethodGet {
				// A new session has no CSRF token the request could carry.
				http.Error(w, "Forbidden: the request carries no valid CSRF token.", http.StatusForbidden)
				return
			}
			var err error
			if sess, err = s.startLocal(w); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if r.Method == http.MethodPost && !sess.validCSRF(r) {
			http.Error(w, "Forbidden: the request carries no valid CSRF token.", http.StatusForbidden)
			return
		}
		h(w, r, sess)
	}
}

// startLocal starts a session acting with the kubeconfig's identity.
func (s *Server) startLocal(w http.ResponseWriter) (*session, error) {
	c, err := client.NewWithWatch(s.opts.Config, client.Options{Scheme: s.scheme})
	if err != nil {
		return nil, err
	}
	sess := s.sessions.start(w, nil, !s.opts.InsecureCookies)
	sess.cfg, sess.c = s.opts.Config, c
	return sess, nil
}

// fail shows err on an error page; the API server's refusals keep their
// status (403 for what RBAC forbids, with its reason).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the browser went away
	}
	code := statusOf(err)
	if code >= 500 {
		s.log.Error("ui request failed", "path", r.URL.Path, "error", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = s.pages["error"].ExecuteTemplate(w, "layout", pageData{Title: http.StatusText(code), Body: errorPage{Code: code, Message: err.Error()}})
}

// render writes page with body; with the X-Weir-Live header only the
// live part, which the page's script puts in place.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, page string, data pageData) {
	data.CSRF, data.User, data.Login = sess.csrf, sess.user, s.opts.Login
	name := "live"
	if r.Header.Get("X-Weir-Live") == "" {
		name = "layout"
		data.Flash = s.sessions.takeFlash(sess) // shown above the live part
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.pages[page].ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("render page", "page", page, "error", err)
	}
}

// pageData is what every page's layout is given.
type pageData struct {
	Title string
	// Events is the URL of the page's server-sent events.
	Events string
	Body   any
	CSRF   string
	User   string
	Login  bool
	Flash  string
}

type errorPage struct {
	Code    int
	Message string
}
