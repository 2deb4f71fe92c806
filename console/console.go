// Package console is Muster's web console for reviewers, legal and admins:
// server-rendered html/template pages with htmx (vendored, pinned by
// sha256), served at /console/ by the same server as the API. Every page
// but sign-in needs a session of the accounts package and a role allowed on
// its route; every state-changing request carries the session's CSRF token
// (form field "csrf" or header X-CSRF-Token, which htmx sends) and passes
// Go's cross-origin protection (Sec-Fetch-Site / Origin). Responses carry a
// strict Content-Security-Policy (no inline script or style), frame-ancestors
// 'none' and nosniff.
package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/store"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Cookie names.
const (
	sessionCookie = "muster_session"
	signinCookie  = "muster_signin"
)

// Config tunes the console.
type Config struct {
	// SecureCookies marks cookies Secure even on plain-HTTP requests (behind
	// a TLS-terminating proxy); requests that arrive over TLS always get
	// Secure cookies.
	SecureCookies bool
	// HeartbeatEvery is how often an open item page renews its lease (1 min).
	HeartbeatEvery time.Duration
	Logger         *slog.Logger
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Blobs reads stored design bytes (the queue's object store).
type Blobs interface {
	GetBlob(ctx context.Context, sha string) ([]byte, error)
}

// Deps are what the console reads and acts through.
type Deps struct {
	Accounts *accounts.Service
	Store    *store.Store
	Blobs    Blobs
	// Review is the review workflow; nil hides the review section.
	Review Review
	// Legal is legal's workspace (rules, backtests, publishing, banks,
	// licences); nil hides the legal section.
	Legal *Legal
	// References serves bank entries' reference images (nil: none shown).
	References References
}

// References reads a bank entry's reference image (PNG).
type References interface {
	Reference(ctx context.Context, bank, entryID string) ([]byte, error)
}

// Handler serves one console request for a signed-in user (sess is nil on
// public routes). A returned *Error is shown as is; other errors are
// logged and shown as a 500 without detail.
type Handler func(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error

// Route is one console route. Roles nil means public (sign-in, static
// files); every other route needs a session whose role is listed.
type Route struct {
	Method, Pattern string
	Roles           []string
	Summary         string
	Handler         Handler
}

// Section is an entry of the console's navigation: the review workspace
// now, legal's workspace (issue 13) next. A user sees the sections their
// role may open.
type Section struct {
	Key, Title, Path, Summary string
	Roles                     []string
}

// Error is an error shown to the user with a status.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Server is the console's http.Handler.
type Server struct {
	cfg      Config
	deps     Deps
	mux      *http.ServeMux
	routes   []Route
	sections []Section
	views    *views
	handler  http.Handler
	// platform holds the routes ("METHOD pattern") open only to users of
	// the platform operator's tenant (the platform policy, the banks).
	platform map[string]bool
	// recent dedupes logged views of design images.
	recent recentViews
}

// Roles.
var (
	allRoles    = []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin}
	reviewRoles = []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin}
)

// New returns the console.
func New(cfg Config, deps Deps) (*Server, error) {
	v, err := newViews()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg.WithDefaults(), deps: deps, mux: http.NewServeMux(), views: v, platform: map[string]bool{}}
	s.routes = []Route{
		{"GET", "/console/static/{name}", nil, "Static files (htmx, CSS, script)", s.static},
		{"GET", "/console/signin", nil, "Sign-in form", s.signinForm},
		{"POST", "/console/signin", nil, "Sign in", s.signin},
		{"POST", "/console/signout", allRoles, "Sign out", s.signout},
		{"GET", "/console/{$}", allRoles, "Home: the sections the user may open", s.home},
		{"GET", "/console/account", allRoles, "Preferences and password", s.account},
		{"POST", "/console/account/prefs", allRoles, "Save preferences", s.savePrefs},
		{"POST", "/console/account/password", allRoles, "Change password", s.changePassword},
		{"GET", "/console/designs/{id}/image", allRoles, "A design's image (tenant-scoped)", s.designImage},
	}
	if deps.Review != nil {
		s.sections = append(s.sections, Section{Key: "review", Title: "Review", Path: "/console/review",
			Summary: "Queues of flagged designs, appeals and QA samples: claim, decide, escalate.", Roles: reviewRoles})
		s.routes = append(s.routes, s.reviewRoutes()...)
	}
	if deps.Legal != nil {
		s.sections = append(s.sections, legalSection)
		s.routes = append(s.routes, s.legalRoutes()...)
	}
	s.sections = append(s.sections, Section{Key: "users", Title: "Users", Path: "/console/users",
		Summary: "Console users: add, unlock, disable, reset passwords.", Roles: adminRoles})
	s.routes = append(s.routes, s.userRoutes()...)
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	s.mux.Handle(Prefix, s.wrap(Route{Method: "GET", Pattern: Prefix, Handler: func(w http.ResponseWriter, r *http.Request, _ *accounts.Session) error {
		return errorf(http.StatusNotFound, "There is no page at %s.", r.URL.Path)
	}}))
	s.mux.Handle("/console", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, r)
		s.renderError(w, r, nil, errorf(http.StatusForbidden, "Cross-origin request refused."))
	}))
	s.handler = cop.Handler(s.mux)
	return s, nil
}

// Routes returns the console's routes (for the authorisation matrix).
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// PlatformOnly reports whether a route is open only to the platform
// operator's users (for the authorisation matrix).
func (s *Server) PlatformOnly(rt Route) bool { return s.platform[rt.Method+" "+rt.Pattern] }

// Sections returns the registered sections.
func (s *Server) Sections() []Section { return slices.Clone(s.sections) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// csp allows only the console's own scripts, styles and images: no inline
// script, no inline style, no eval (htmx runs with allowEval false).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, r)
		if !strings.HasPrefix(r.URL.Path, "/console/static/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		var sess *accounts.Session
		if rt.Roles != nil {
			got, err := s.session(r)
			if err != nil {
				if !errors.Is(err, accounts.ErrNoSession) {
					s.cfg.Logger.Error("console: session", "err", err)
					s.renderError(w, r, nil, errorf(http.StatusServiceUnavailable, "Cannot check your session now."))
					return
				}
				s.needSignin(w, r)
				return
			}
			sess = &got
			if !slices.Contains(rt.Roles, sess.User.Role) {
				s.renderError(w, r, sess, errorf(http.StatusForbidden, "Your role (%s) may not open this page.", sess.User.Role))
				return
			}
			if s.platform[rt.Method+" "+rt.Pattern] && !sess.User.Platform {
				s.renderError(w, r, sess, errorf(http.StatusForbidden, "Only the platform operator's staff may open this page."))
				return
			}
			if !safeMethod(r.Method) && !s.validCSRF(w, r, sess.CSRF) {
				s.renderError(w, r, sess, errorf(http.StatusForbidden, "The form's security token is missing or stale: reload the page and try again."))
				return
			}
		}
		if err := rt.Handler(w, r, sess); err != nil {
			s.renderError(w, r, sess, err)
		}
	})
}

// validCSRF compares the request's token (header or form field) with want
// in constant time.
func (s *Server) validCSRF(w http.ResponseWriter, r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		got = r.PostFormValue("csrf")
	}
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) session(r *http.Request) (accounts.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return accounts.Session{}, accounts.ErrNoSession
	}
	return s.deps.Accounts.Session(r.Context(), c.Value)
}

// needSignin sends a page request to the sign-in form (coming back after)
// and answers other requests 401 (htmx follows HX-Redirect).
func (s *Server) needSignin(w http.ResponseWriter, r *http.Request) {
	target := "/console/signin"
	if safeMethod(r.Method) && r.Header.Get("HX-Request") == "" {
		target += "?next=" + urlQueryEscape(r.URL.RequestURI())
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	w.Header().Set("HX-Redirect", target)
	s.renderError(w, r, nil, errorf(http.StatusUnauthorized, "Your session has ended: sign in again."))
}

// renderError shows err: a full page, or for htmx requests a fragment
// that console.js puts in the page's message area.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, sess *accounts.Session, err error) {
	var e *Error
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, context.Canceled):
			return
		case errors.Is(err, store.ErrNotFound):
			e = errorf(http.StatusNotFound, "Not found.")
		default:
			s.cfg.Logger.Error("console: internal error", "path", r.URL.Path, "err", err)
			e = errorf(http.StatusInternalServerError, "Something went wrong on our side; it was logged.")
		}
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = w.Write([]byte(e.Message))
		return
	}
	s.render(w, r, e.Status, "error", s.page(r, sess, http.StatusText(e.Status), "", e))
}

// redirect sends the browser to target after a POST (303), or tells htmx to.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps only local console paths as a redirect target after sign-in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
