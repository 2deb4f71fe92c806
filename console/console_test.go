package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/internal/natstest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/queue"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const pw = "correct horse battery"

// bundle is one test's console: a database, NATS (the design bytes), the
// console on a test server, a platform tenant and a merchant tenant with a
// user of every role each.
type bundle struct {
	t        *testing.T
	st       *store.Store
	acc      *accounts.Service
	q        *queue.Queue
	srv      *httptest.Server
	con      *console.Server
	platform store.Tenant
	acme     store.Tenant
	other    store.Tenant
}

func setup(t *testing.T, cfg console.Config) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	q, err := queue.Setup(ctx, natstest.New(t), queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{t: t, st: store.New(pool), q: q, acc: accounts.New(pool, accounts.Config{Params: accounts.TestParams})}
	if b.platform, _, err = b.st.CreatePlatformTenant(ctx, "plat", ""); err != nil {
		t.Fatal(err)
	}
	b.acme, _, _ = b.st.CreateTenant(ctx, "acme", "")
	b.other, _, _ = b.st.CreateTenant(ctx, "other", "")
	for _, ten := range []store.Tenant{b.platform, b.acme, b.other} {
		for _, role := range []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin} {
			if _, err := b.acc.CreateUser(ctx, accounts.NewUser{TenantID: ten.ID, Email: role + "@" + ten.Name + ".example", Role: role, Password: pw}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.con, err = console.New(cfg, console.Deps{Accounts: b.acc, Store: b.st, Blobs: q, Review: review.New(b.st, nil, nil, review.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	b.srv = httptest.NewServer(b.con)
	t.Cleanup(b.srv.Close)
	return b
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects.
type client struct {
	t     *testing.T
	b     *bundle
	http  *http.Client
	csrf  string
	email string
}

func (b *bundle) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: b.t, b: b, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.b.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// signin signs in and keeps the session's CSRF token.
func (c *client) signin(email, password string) *http.Response {
	c.t.Helper()
	_, page := c.do("GET", "/console/signin", nil, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no csrf field on the sign-in page:\n%s", page)
	}
	resp, _ := c.do("POST", "/console/signin", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}}, nil)
	if resp.StatusCode == http.StatusSeeOther {
		_, home := c.do("GET", "/console/", nil, nil)
		if m := csrfField.FindStringSubmatch(home); m != nil {
			c.csrf = m[1]
		}
	}
	return resp
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	c := b.client()
	resp := c.signin("reviewer@acme.example", pw)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "muster_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure || session.Path != "/console/" {
		t.Fatalf("session cookie %+v", session)
	}
	if c.csrf == "" || c.csrf == session.Value {
		t.Fatal("no CSRF token distinct from the session")
	}
	// Signing in again rotates the session: the old token is dead.
	old := session.Value
	c.signin("reviewer@acme.example", pw)
	if _, err := b.acc.Session(context.Background(), old); err == nil {
		t.Fatal("the pre-sign-in session survived a new sign-in")
	}
	// Sign out needs the token; then the session is gone.
	if resp, _ := c.do("POST", "/console/signout", url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/console/signout", url.Values{"csrf": {c.csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin?next=") {
		t.Fatalf("after sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Secure cookies when configured (behind a TLS proxy).
	bs := setup(t, console.Config{SecureCookies: true})
	resp = bs.client().signin("reviewer@acme.example", pw)
	for _, ck := range resp.Cookies() {
		if ck.Name == "muster_session" && !ck.Secure {
			t.Fatal("session cookie not Secure with SecureCookies")
		}
	}
}

func TestSignInFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	c := b.client()
	tests := []struct {
		name, email, password string
		status                int
		message               string
	}{
		{"wrong password", "reviewer@acme.example", "wrong password!!", 401, "Wrong email or password."},
		{"unknown email", "nobody@acme.example", pw, 401, "Wrong email or password."},
	}
	for _, tt := range tests {
		_, page := c.do("GET", "/console/signin", nil, nil)
		tok := csrfField.FindStringSubmatch(page)[1]
		resp, body := c.do("POST", "/console/signin", url.Values{"csrf": {tok}, "email": {tt.email}, "password": {tt.password}}, nil)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.message) {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, body)
		}
	}
	// The login form's token is checked (login CSRF).
	resp, _ := c.do("POST", "/console/signin", url.Values{"csrf": {"forged"}, "email": {"reviewer@acme.example"}, "password": {pw}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged sign-in token: %d", resp.StatusCode)
	}
	// A cross-site POST is refused before anything else.
	resp, _ = c.do("POST", "/console/signin", url.Values{"email": {"x"}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-in: %d", resp.StatusCode)
	}
	// Lockout after five failures, even with the right password.
	for range 5 {
		c.signin("admin@acme.example", "wrong password!!")
	}
	if resp := c.signin("admin@acme.example", pw); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked account: %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	c := b.client()
	for _, path := range []string{"/console/signin", "/console/", "/console/nope", "/console/static/console.css"} {
		resp, _ := c.do("GET", path, nil, nil)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if path != "/console/static/console.css" && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
	if strings.Contains(csp(t, b), "unsafe") {
		t.Fatal("the CSP allows unsafe-inline or unsafe-eval")
	}
}

func csp(t *testing.T, b *bundle) string {
	resp, _ := b.client().do("GET", "/console/signin", nil, nil)
	return resp.Header.Get("Content-Security-Policy")
}

// htmxSHA256 pins the vendored htmx: htmx.org@2.0.11 dist/htmx.min.js from
// the npm tarball (tarball sha256 165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e).
const htmxSHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"

func TestHtmxPinned(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	resp, body := b.client().do("GET", "/console/static/htmx.min.js", nil, nil)
	sum := sha256.Sum256([]byte(body))
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != htmxSHA256 {
		t.Fatalf("htmx.min.js: %d, sha256 %x (want %s)", resp.StatusCode, sum, htmxSHA256)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
}

// pathFor fills a route pattern's wildcards.
func pathFor(pattern string, id string) string {
	p := strings.ReplaceAll(pattern, "{id}", id)
	p = strings.ReplaceAll(p, "{name}", "console.css")
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(p, "1")
}

// TestAuthorisationMatrix walks every console route: without a session it
// is refused (pages send to sign-in), a role not listed gets 403, and a
// state-changing request without the session's CSRF token gets 403.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	public := []string{"GET /console/static/{name}", "GET /console/signin", "POST /console/signin"}
	clients := map[string]*client{}
	for _, role := range []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin} {
		clients[role] = b.client()
		clients[role].email = role + "@acme.example"
		if resp := clients[role].signin(role+"@acme.example", pw); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in %s: %d", role, resp.StatusCode)
		}
	}
	anon := b.client()
	id := uuid.NewString()
	routes := b.con.Routes()
	// Sign-out last: it ends the sessions the other rows use.
	slices.SortStableFunc(routes, func(a, b console.Route) int {
		if a.Pattern == "/console/signout" {
			return 1
		}
		if b.Pattern == "/console/signout" {
			return -1
		}
		return 0
	})
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		if rt.Roles == nil {
			if !slices.Contains(public, key) {
				t.Errorf("%s is public", key)
			}
			continue
		}
		if rt.Summary == "" {
			t.Errorf("%s has no summary", key)
		}
		path := pathFor(rt.Pattern, id)
		var form url.Values
		if rt.Method != "GET" {
			form = url.Values{}
		}
		resp, _ := anon.do(rt.Method, path, form, nil)
		switch {
		case rt.Method == "GET" && (resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin")):
			t.Errorf("%s without a session: %d %s", key, resp.StatusCode, resp.Header.Get("Location"))
		case rt.Method != "GET" && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s without a session: %d", key, resp.StatusCode)
		}
		for role, c := range clients {
			allowed := slices.Contains(rt.Roles, role)
			if rt.Method != "GET" {
				// Without the token: refused whatever the role.
				if resp, _ := c.do(rt.Method, path, url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s without CSRF: %d", key, role, resp.StatusCode)
				}
				// With a wrong token too.
				if resp, _ := c.do(rt.Method, path, url.Values{"csrf": {"x" + c.csrf}}, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s with a wrong CSRF token: %d", key, role, resp.StatusCode)
				}
				form = url.Values{"csrf": {c.csrf}}
			}
			resp, _ := c.do(rt.Method, path, form, nil)
			if !allowed && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s as %s (not allowed): %d", key, role, resp.StatusCode)
			}
			if allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
				t.Errorf("%s as %s (allowed): %d", key, role, resp.StatusCode)
			}
		}
	}
	for _, c := range clients {
		c.signin(c.email, pw)
	}
	// The token is bound to its session: another user's is refused.
	if resp, _ := clients[accounts.RoleAdmin].do("POST", "/console/account/prefs", url.Values{"csrf": {clients[accounts.RoleReviewer].csrf}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's CSRF token: %d", resp.StatusCode)
	}
	// The htmx header carries the token as well as the form field does.
	if resp, _ := clients[accounts.RoleAdmin].do("POST", "/console/account/prefs", url.Values{}, map[string]string{"X-CSRF-Token": clients[accounts.RoleAdmin].csrf, "HX-Request": "true"}); resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") == "" {
		t.Fatalf("htmx request with the header: %d", resp.StatusCode)
	}
}

func pngOf(t *testing.T, n int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(n), uint8(x * 7), uint8(y * 9), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// TestDesignImageScope: a design's image is served to its tenant's users
// and the platform's, and is a 404 for any other tenant.
func TestDesignImageScope(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	ctx := context.Background()
	data := pngOf(t, 1)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	if _, err := b.q.PutBlob(ctx, sha, data); err != nil {
		t.Fatal(err)
	}
	d, _, err := b.st.InsertDesign(ctx, store.NewDesign{ID: uuid.NewString(), TenantID: b.acme.ID, SHA256: sha, Bytes: int64(len(data)), Width: 32, Height: 24,
		MediaType: "image/png", Product: "tshirt", Markets: []string{"DE"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		email  string
		status int
	}{
		{"reviewer@acme.example", 200},
		{"legal@acme.example", 200},
		{"reviewer@plat.example", 200},
		{"reviewer@other.example", 404},
		{"admin@other.example", 404},
	}
	for _, tt := range tests {
		c := b.client()
		c.signin(tt.email, pw)
		resp, body := c.do("GET", "/console/designs/"+d.ID+"/image", nil, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d", tt.email, resp.StatusCode)
		}
		if tt.status == 200 && (body != string(data) || resp.Header.Get("Content-Type") != "image/png" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox")) {
			t.Errorf("%s: wrong image or headers %v", tt.email, resp.Header)
		}
	}
	c := b.client()
	c.signin("reviewer@acme.example", pw)
	if resp, _ := c.do("GET", "/console/designs/not-a-uuid/image", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("bad id: %d", resp.StatusCode)
	}
	// Access transparency: every view was logged (a reload within minutes
	// counts once); the tenant's users list them, others get a 404.
	c.do("GET", "/console/designs/"+d.ID+"/image", nil, nil)
	resp, page := c.do("GET", "/console/designs/"+d.ID+"/access", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("access page: %d", resp.StatusCode)
	}
	for _, who := range []string{"reviewer@acme.example", "legal@acme.example", "reviewer@plat.example"} {
		if n := strings.Count(page, who+"</td><td>image</td>"); n != 1 {
			t.Errorf("access page lists %s's image view %d times:\n%s", who, n, page)
		}
	}
	if strings.Contains(page, "other.example") {
		t.Errorf("access page lists a refused view:\n%s", page)
	}
	o := b.client()
	o.signin("admin@other.example", pw)
	if resp, _ := o.do("GET", "/console/designs/"+d.ID+"/access", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("another tenant's admin read the access log: %d", resp.StatusCode)
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	c := b.client()
	c.signin("reviewer@acme.example", pw)
	resp, _ := c.do("POST", "/console/account/prefs", url.Values{"csrf": {c.csrf}, "greyscale": {"on"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save prefs: %d", resp.StatusCode)
	}
	u, _ := b.acc.User(context.Background(), "reviewer@acme.example")
	if !u.Prefs.Greyscale || u.Prefs.UnblurSexual {
		t.Fatalf("prefs %+v", u.Prefs)
	}
	_, page := c.do("GET", "/console/account", nil, nil)
	if !strings.Contains(page, `class="pref-greyscale"`) {
		t.Fatal("greyscale preference not applied to the page")
	}
	// Password change: the current password is checked.
	resp, _ = c.do("POST", "/console/account/password", url.Values{"csrf": {c.csrf}, "current": {"wrong password!!"}, "new": {"a brand new password"}, "confirm": {"a brand new password"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/console/account/password", url.Values{"csrf": {c.csrf}, "current": {pw}, "new": {"a brand new password"}, "confirm": {"a brand new password"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/console/account", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("this browser stays signed in: %d", resp.StatusCode)
	}
	if resp := b.client().signin("reviewer@acme.example", "a brand new password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("new password: %d", resp.StatusCode)
	}
}

var generatedPassword = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)

// TestUserAdmin: a platform admin adds a user to a tenant and sees the
// password once; a tenant's admin manages only their tenant's users.
func TestUserAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	ctx := context.Background()
	plat := b.client()
	plat.signin("admin@plat.example", pw)
	resp, page := plat.do("POST", "/console/users", url.Values{"csrf": {plat.csrf}, "email": {"new@acme.example"}, "role": {"reviewer"}, "tenant": {b.acme.ID}}, nil)
	m := generatedPassword.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create: %d\n%s", resp.StatusCode, page)
	}
	if resp := b.client().signin("new@acme.example", m[1]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new user signs in: %d", resp.StatusCode)
	}
	if _, page := plat.do("GET", "/console/users", nil, nil); strings.Contains(page, m[1]) {
		t.Fatal("the password is shown again")
	}
	acmeAdmin := b.client()
	acmeAdmin.signin("admin@acme.example", pw)
	_, page = acmeAdmin.do("GET", "/console/users", nil, nil)
	if !strings.Contains(page, "new@acme.example") || strings.Contains(page, "@plat.example") || strings.Contains(page, "@other.example") {
		t.Fatalf("acme admin's scope:\n%s", page)
	}
	user := func(email string) string {
		u, err := b.acc.User(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	tests := []struct {
		name   string
		c      *client
		path   string
		status int
	}{
		{"tenant admin disables their reviewer", acmeAdmin, "/console/users/" + user("reviewer@acme.example") + "/disable", http.StatusSeeOther},
		{"tenant admin cannot touch a platform user", acmeAdmin, "/console/users/" + user("reviewer@plat.example") + "/disable", http.StatusNotFound},
		{"tenant admin cannot touch another tenant", acmeAdmin, "/console/users/" + user("reviewer@other.example") + "/password", http.StatusNotFound},
		{"nobody disables themselves", acmeAdmin, "/console/users/" + user("admin@acme.example") + "/disable", http.StatusBadRequest},
		{"platform admin enables anyone", plat, "/console/users/" + user("reviewer@acme.example") + "/enable", http.StatusSeeOther},
		{"platform admin resets another tenant's password", plat, "/console/users/" + user("legal@other.example") + "/password", http.StatusOK},
	}
	for _, tt := range tests {
		if resp, _ := tt.c.do("POST", tt.path, url.Values{"csrf": {tt.c.csrf}}, nil); resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
	// Unlock lifts a lockout.
	for range 5 {
		b.client().signin("legal@acme.example", "wrong password!!")
	}
	if resp := b.client().signin("legal@acme.example", pw); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("not locked: %d", resp.StatusCode)
	}
	if resp, _ := acmeAdmin.do("POST", "/console/users/"+user("legal@acme.example")+"/unlock", url.Values{"csrf": {acmeAdmin.csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", resp.StatusCode)
	}
	if resp := b.client().signin("legal@acme.example", pw); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after unlock: %d", resp.StatusCode)
	}
}
