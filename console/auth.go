package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure reports whether cookies must be Secure for this request.
func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.SecureCookies }

// signinForm renders the sign-in form with a fresh login-CSRF token, kept
// in a short-lived cookie and echoed in the form (double submit: there is
// no session yet to bind it to).
func (s *Server) signinForm(w http.ResponseWriter, r *http.Request, _ *accounts.Session) error {
	return s.renderSignin(w, r, http.StatusOK, r.URL.Query().Get("next"), "", "")
}

type signinData struct {
	Next, Email, Message string
}

func (s *Server) renderSignin(w http.ResponseWriter, r *http.Request, status int, next, email, msg string) error {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: tok, Path: "/console/signin", MaxAge: 1800,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	p := s.page(r, nil, "Sign in", "", signinData{Next: safeNext(next), Email: email, Message: msg})
	p.CSRF = tok
	s.render(w, r, status, "signin", p)
	return nil
}

// signin checks the credentials, rotates the session (a session the
// browser already had is ended) and sets the new session cookie.
func (s *Server) signin(w http.ResponseWriter, r *http.Request, _ *accounts.Session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, "Malformed form.")
	}
	email, password, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	c, err := r.Cookie(signinCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return s.renderSignin(w, r, http.StatusForbidden, next, email, "The sign-in form expired: please try again.")
	}
	meta := accounts.Meta{UserAgent: r.UserAgent(), RemoteAddr: clientAddr(r)}
	sess, token, err := s.deps.Accounts.Login(r.Context(), email, password, meta)
	var locked *accounts.LockedError
	var throttled *accounts.ThrottledError
	switch {
	case errors.Is(err, accounts.ErrInvalidCredentials):
		s.cfg.Logger.Info("console: sign-in failed", "email", email, "addr", meta.RemoteAddr)
		return s.renderSignin(w, r, http.StatusUnauthorized, next, email, "Wrong email or password.")
	case errors.As(err, &locked):
		s.cfg.Logger.Warn("console: sign-in locked", "email", email, "addr", meta.RemoteAddr, "until", locked.Until)
		return s.renderSignin(w, r, http.StatusTooManyRequests, next, email,
			fmt.Sprintf("Too many failed sign-ins: this account is locked until %s UTC. An admin can unlock it sooner.", locked.Until.UTC().Format("15:04")))
	case errors.As(err, &throttled):
		s.cfg.Logger.Warn("console: sign-in throttled", "addr", meta.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds())+1))
		return s.renderSignin(w, r, http.StatusTooManyRequests, next, email, "Too many failed sign-ins from your address: wait a few minutes.")
	case err != nil:
		return err
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		_ = s.deps.Accounts.Logout(r.Context(), old.Value) // rotate: never reuse a pre-sign-in session
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/console/signin", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	s.cfg.Logger.Info("console: signed in", "user", sess.User.Email, "role", sess.User.Role, "addr", meta.RemoteAddr)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

// clientAddr is the connection's remote IP (proxies' headers are not
// trusted: a client could forge them to dodge throttling).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.deps.Accounts.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	s.cfg.Logger.Info("console: signed out", "user", sess.User.Email)
	redirect(w, r, "/console/signin")
	return nil
}

type homeData struct {
	Sections []Section
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	s.render(w, r, http.StatusOK, "home", s.page(r, sess, "Muster console", "", homeData{Sections: s.visibleSections(sess)}))
	return nil
}

func (s *Server) visibleSections(sess *accounts.Session) []Section {
	var out []Section
	for _, sec := range s.sections {
		if sess != nil && slices.Contains(sec.Roles, sess.User.Role) {
			out = append(out, sec)
		}
	}
	return out
}

type accountData struct {
	Message string
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	msg := ""
	switch r.URL.Query().Get("saved") {
	case "prefs":
		msg = "Preferences saved."
	case "password":
		msg = "Password changed; your other sessions were signed out."
	}
	s.render(w, r, http.StatusOK, "account", s.page(r, sess, "Your account", "account", accountData{Message: msg}))
	return nil
}

func (s *Server) savePrefs(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	p := accounts.Prefs{
		UnblurSexual:      r.PostFormValue("unblur_sexual") == "on",
		Greyscale:         r.PostFormValue("greyscale") == "on",
		HideShortcutHints: r.PostFormValue("hide_shortcut_hints") == "on",
	}
	if err := s.deps.Accounts.SetPrefs(r.Context(), sess.User.ID, p); err != nil {
		return err
	}
	redirect(w, r, "/console/account?saved=prefs")
	return nil
}

// changePassword checks the current password (a stolen session alone
// cannot take the account over), sets the new one, which ends every
// session, and signs this browser in again.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	cur, next := r.PostFormValue("current"), r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		return errorf(http.StatusBadRequest, "The new passwords differ.")
	}
	if len([]rune(next)) < accounts.MinPasswordLen || len(next) > accounts.MaxPasswordLen {
		return errorf(http.StatusBadRequest, "A password must be %d to %d characters.", accounts.MinPasswordLen, accounts.MaxPasswordLen)
	}
	meta := accounts.Meta{UserAgent: r.UserAgent(), RemoteAddr: clientAddr(r)}
	if _, tok, err := s.deps.Accounts.Login(r.Context(), sess.User.Email, cur, meta); err != nil {
		return errorf(http.StatusForbidden, "The current password is wrong.")
	} else {
		_ = s.deps.Accounts.Logout(r.Context(), tok)
	}
	if err := s.deps.Accounts.SetPassword(r.Context(), sess.User.ID, next); err != nil {
		return err
	}
	ns, token, err := s.deps.Accounts.Login(r.Context(), sess.User.Email, next, meta)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, Expires: ns.ExpiresAt,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	redirect(w, r, "/console/account?saved=password")
	return nil
}

// imageTypes are the media types the API accepts; anything else is not
// served as an image.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// designImage serves a design's bytes to a signed-in user whose tenant may
// see it (platform users: every tenant).
func (s *Server) designImage(w http.ResponseWriter, r *http.Request, sess *accounts.Session) error {
	d, err := s.designFor(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !imageTypes[d.MediaType] {
		return errorf(http.StatusUnsupportedMediaType, "Not an image.")
	}
	if err := s.logView(r.Context(), sess, d, review.ViewImage, 0); err != nil {
		return err
	}
	b, err := s.deps.Blobs.GetBlob(r.Context(), d.SHA256)
	if err != nil {
		return fmt.Errorf("design %s bytes: %w", d.ID, err)
	}
	w.Header().Set("Content-Type", d.MediaType)
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Disposition", "inline")
	_, _ = w.Write(b)
	return nil
}

// designFor returns a design the user may see, or a 404 (never telling
// whether another tenant's design exists).
func (s *Server) designFor(r *http.Request, sess *accounts.Session, id string) (store.Design, error) {
	if _, err := parseUUID(id); err != nil {
		return store.Design{}, errorf(http.StatusNotFound, "No such design.")
	}
	var d store.Design
	var err error
	if sess.User.Platform {
		d, err = s.deps.Store.DesignByID(r.Context(), id)
	} else {
		d, err = s.deps.Store.Design(r.Context(), sess.User.TenantID, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Design{}, errorf(http.StatusNotFound, "No such design.")
	}
	return d, err
}

func parseUUID(s string) (string, error) {
	if len(s) != 36 {
		return "", errors.New("not a uuid")
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", errors.New("not a uuid")
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return "", errors.New("not a uuid")
		}
	}
	return s, nil
}

var _ = time.Second
