package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/policy"
)

// legalBundle is a console with legal's workspace: the policy (bootstrapped
// from the default pack) and the banks, on the bundle's database.
type legalBundle struct {
	*bundle
	pol      *policy.Store
	banks    *bank.Store
	licences []string // "tenant bank/entry" per LicenceChanged call
}

func legalSetup(t *testing.T) *legalBundle {
	t.Helper()
	b := setup(t, console.Config{})
	ctx := context.Background()
	lb := &legalBundle{bundle: b, pol: policy.NewStore(b.st.Pool(), b.st, policy.Config{}), banks: bank.NewStore(b.st.Pool(), nil)}
	if err := lb.pol.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := lb.banks.CreateBank(ctx, bank.Bank{Name: "marks", Kind: bank.KindTrademark}, "test"); err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{}, console.Deps{Accounts: b.acc, Store: b.st, Blobs: b.q, Legal: &console.Legal{
		Policy: lb.pol, Banks: lb.banks,
		LicenceChanged: func(_ context.Context, actor, tenant, bankName, entry string) error {
			lb.licences = append(lb.licences, tenant+" "+bankName+"/"+entry)
			return nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b.con = con
	b.srv = httptest.NewServer(con)
	t.Cleanup(b.srv.Close)
	return lb
}

func (lb *legalBundle) signedIn(email string) *client {
	c := lb.client()
	c.email = email
	if resp := c.signin(email, pw); resp.StatusCode != http.StatusSeeOther {
		lb.t.Fatalf("sign in %s: %d", email, resp.StatusCode)
	}
	return c
}

// logoPNG is a simple reference image the matcher can prepare.
func logoPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	for y := range 128 {
		for x := range 128 {
			dx, dy := x-64, y-64
			if dx*dx+dy*dy < 50*50 && !(x > 64 && y > 50 && y < 75) {
				img.SetNRGBA(x, y, color.NRGBA{20, 20, 20, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func (c *client) upload(path string, fields map[string]string, img []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if img != nil {
		w, _ := mw.CreateFormFile("image", "ref.png")
		w.Write(img)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.b.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp, out.String()
}

// TestLegalPages walks legal's workspace as the platform's legal user:
// every page renders, a condition error is reported at its line and
// column as it is typed, a rule is saved, previewed, backtested and
// published, an entry is added by upload, edited and disabled, a licence
// is granted and revoked (re-deciding through the callback).
func TestLegalPages(t *testing.T) {
	t.Parallel()
	lb := legalSetup(t)
	ctx := context.Background()
	c := lb.signedIn("legal@plat.example")
	get := func(path string, want ...string) string {
		t.Helper()
		resp, body := c.do("GET", path, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		return body
	}
	post := func(path string, form url.Values, status int) (*http.Response, string) {
		t.Helper()
		form.Set("csrf", c.csrf)
		resp, body := c.do("POST", path, form, nil)
		if resp.StatusCode != status {
			t.Fatalf("POST %s: %d (want %d)\n%s", path, resp.StatusCode, status, body)
		}
		return resp, body
	}
	get("/console/", `href="/console/legal"`)
	get("/console/legal", "Where each market stands", `href="/console/legal/rules/nazi_symbol_block"`)
	get("/console/legal?which=draft", "draft revision 1")
	get("/console/legal/rules", "trademark_block", "Draft revision 1")
	get("/console/legal/rules/trademark_block", "registered_in(f, market.code)", "This rule in the live version")
	get("/console/legal/rules/new?copy=sexual_explicit_block", "sexual_explicit_block_copy")
	get("/console/legal/params", "trademark_block_score")
	get("/console/legal/diff", "No difference.")
	get("/console/legal/backtests", "Backtest draft revision 1")
	get("/console/legal/shadow", "No shadow is set.")
	get("/console/legal/publish", "The draft is the same as live.")
	get("/console/legal/versions", "policy/1", "default policy pack")
	get("/console/legal/versions/1", "sha256")
	get("/console/legal/audit", "seed")
	get("/console/legal/sor?market=DE&probe=hakenkreuz", "DECISION_GROUND_ILLEGAL_CONTENT", "StGB")
	get("/console/legal/sor?market=US&probe=hakenkreuz", "only a block in an EU market")
	get("/console/legal/banks", "marks")
	get("/console/legal/licences?tenant="+lb.acme.ID, "Licences of acme")

	// A stricter rule for FR: suggestive content blocked.
	rule := url.Values{"orig": {""}, "name": {"suggestive_block_fr"}, "markets": {"FR"}, "scope": {"design"}, "outcome": {"block"},
		"code": {"sexual_suggestive_fr"}, "ground_kind": {"terms"}, "ground_ref": {"Terms 4.2"}, "ground_explanation": {"suggestive content on FR storefronts"},
		"when": {"true &&\nnsfw.categories['sexual_suggestive'] >= params.suggestive_fr"}}
	_, frag := post("/console/legal/rules/validate", rule, 200)
	if !strings.Contains(frag, "line 2, column 41") || !strings.Contains(frag, "undeclared reference") {
		t.Fatalf("validation fragment:\n%s", frag)
	}
	post("/console/legal/rules/save", rule, http.StatusUnprocessableEntity) // refused with the errors
	rule.Set("when", "nsfw.categories['sexual_suggestive'] >= 0.6")
	if _, frag = post("/console/legal/rules/validate", rule, 200); !strings.Contains(frag, "Compiles") {
		t.Fatalf("valid rule: %s", frag)
	}
	rule.Set("probe", "suggestive")
	rule.Set("preview_markets", "FR,DE")
	if _, frag = post("/console/legal/rules/preview", rule, 200); !strings.Contains(frag, `data-market="FR"`) || !strings.Contains(frag, "sexual_suggestive_fr") ||
		!strings.Contains(frag, "DECISION_GROUND_INCOMPATIBLE_CONTENT") {
		t.Fatalf("preview:\n%s", frag)
	}
	resp, _ := post("/console/legal/rules/save", rule, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/console/legal/rules/suggestive_block_fr?saved=rule" {
		t.Fatalf("after save: %s", loc)
	}
	get("/console/legal/diff", "suggestive_block_fr", "added")
	get("/console/legal?which=draft", "(suggestive_block_fr)")

	// Backtest: queued as a job; run it here (no runner in this test).
	resp, _ = post("/console/legal/backtests", url.Values{"days": {"30"}}, http.StatusSeeOther)
	var id int64
	fmt.Sscanf(resp.Header.Get("Location"), "/console/legal/backtests/%d", &id)
	get(resp.Header.Get("Location"), "queued", `hx-get="/console/legal/backtests/`)
	if err := lb.pol.RunBacktest(ctx, id); err != nil {
		t.Fatal(err)
	}
	progress, _ := c.do("GET", fmt.Sprintf("/console/legal/backtests/%d/progress", id), nil, map[string]string{"HX-Request": "true"})
	if progress.Header.Get("HX-Refresh") != "true" {
		t.Fatal("a finished backtest does not reload the page")
	}
	get(resp.Header.Get("Location"), "of 0 designs change")
	get("/console/legal/publish", "suggestive_block_fr", fmt.Sprintf(`href="/console/legal/backtests/%d"`, id))

	// Only legal publishes; a note is required.
	admin := lb.signedIn("admin@plat.example")
	if r, _ := admin.do("POST", "/console/legal/publish", url.Values{"csrf": {admin.csrf}, "note": {"x"}}, nil); r.StatusCode != 403 {
		t.Fatalf("admin publishes: %d", r.StatusCode)
	}
	post("/console/legal/publish", url.Values{"note": {" "}}, http.StatusBadRequest)
	post("/console/legal/publish", url.Values{"note": {"block suggestive content in FR"}, "revision": {"2"}}, http.StatusSeeOther)
	get("/console/legal/versions", "policy/2", "block suggestive content in FR")
	get("/console/legal/audit", "publish", "block suggestive content in FR", "user:legal@plat.example")
	get("/console/legal", "(suggestive_block_fr)")
	post("/console/legal/rollback", url.Values{"to": {"1"}, "expect_live": {"2"}, "note": {"undo"}}, http.StatusSeeOther)
	if st, _ := lb.pol.State(ctx); *st.Live != 3 {
		t.Fatalf("live after rollback: %d", *st.Live)
	}
	post("/console/legal/shadow", url.Values{"action": {"on"}, "note": {"try"}}, http.StatusSeeOther)
	get("/console/legal/shadow", "0 of 0 verdicts")

	// Banks: add by upload, edit, disable.
	r, body := c.upload("/console/legal/banks/marks/entries", map[string]string{"id": "zorblax", "label": "Zorblax", "owner": "Zorblax Inc.",
		"jurisdictions": "us, eu", "classes": "25, 21", "word_marks": "Zorblax"}, logoPNG())
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", r.StatusCode, body)
	}
	e, err := lb.banks.Entry(ctx, "marks", "zorblax")
	if err != nil || len(e.Prepared) == 0 || !slices.Equal(e.Jurisdictions, []string{"US", "EU"}) || e.Source != "console upload by user:legal@plat.example" {
		t.Fatalf("entry %+v %v", e, err)
	}
	if r, body = c.upload("/console/legal/banks/marks/entries", map[string]string{"id": "broken", "label": "Broken"}, []byte("not an image")); r.StatusCode != 400 || !strings.Contains(body, "refused") {
		t.Fatalf("bad image: %d\n%s", r.StatusCode, body)
	}
	if r, _ = c.upload("/console/legal/banks/marks/entries", map[string]string{"id": "zorblax", "label": "Again"}, logoPNG()); r.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate id: %d", r.StatusCode)
	}
	get("/console/legal/banks/marks", "Zorblax", `src="/console/legal/banks/marks/entries/zorblax/image"`)
	get("/console/legal/banks/marks?q=zorb", "Zorblax")
	get("/console/legal/banks/marks/entries/zorblax", "Matched in <strong>0</strong>")
	if r, img := c.do("GET", "/console/legal/banks/marks/entries/zorblax/image", nil, nil); r.StatusCode != 200 || !strings.HasPrefix(img, "\x89PNG") {
		t.Fatalf("reference image: %d", r.StatusCode)
	}
	post("/console/legal/banks/marks/entries/zorblax", url.Values{"label": {"Zorblax"}, "owner": {"Zorblax Holdings"}, "jurisdictions": {"US"}, "classes": {"25"}}, http.StatusSeeOther)
	post("/console/legal/banks/marks/entries/zorblax/disable", url.Values{"note": {"false positives"}}, http.StatusSeeOther)
	if e, _ = lb.banks.Entry(ctx, "marks", "zorblax"); e.Owner != "Zorblax Holdings" || !e.Disabled || e.DisabledNote != "false positives" {
		t.Fatalf("after edit and disable: %+v", e)
	}
	post("/console/legal/banks/marks/entries/zorblax/enable", url.Values{}, http.StatusSeeOther)
	post("/console/legal/banks/marks/threshold", url.Values{"threshold": {"0.8"}}, http.StatusSeeOther)

	// Licences: the platform grants for acme; acme's legal sees and revokes.
	post("/console/legal/licences", url.Values{"tenant": {lb.acme.ID}, "bank": {"marks"}, "entry": {"zorblax"}, "evidence": {""}}, http.StatusBadRequest)
	post("/console/legal/licences", url.Values{"tenant": {lb.acme.ID}, "bank": {"marks"}, "entry": {"zorblax"}, "evidence": {"licence ZX-1"}, "expires": {"2099-01-01"}}, http.StatusSeeOther)
	acme := lb.signedIn("legal@acme.example")
	if r, body := acme.do("GET", "/console/legal/licences", nil, nil); r.StatusCode != 200 || !strings.Contains(body, "licence ZX-1") {
		t.Fatalf("acme's licences: %d", r.StatusCode)
	}
	if r, _ := acme.do("POST", "/console/legal/licences/revoke", url.Values{"csrf": {acme.csrf}, "bank": {"marks"}, "entry": {"zorblax"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("acme revokes: %d", r.StatusCode)
	}
	want := []string{lb.acme.ID + " marks/zorblax", lb.acme.ID + " marks/zorblax"}
	if !slices.Equal(lb.licences, want) {
		t.Fatalf("re-decisions %v, want %v", lb.licences, want)
	}
}

// TestLegalAuthorisation is the legal section's authorisation matrix:
// every route refuses a missing session and the roles not listed; the
// platform policy and the banks refuse every other tenant's users (legal
// included); reviewers cannot edit rules or banks; one tenant's legal
// cannot read or change another tenant's licences.
func TestLegalAuthorisation(t *testing.T) {
	t.Parallel()
	lb := legalSetup(t)
	users := map[string]*client{}
	for _, ten := range []string{"plat", "acme"} {
		for _, role := range []string{accounts.RoleReviewer, accounts.RoleLegal, accounts.RoleAdmin} {
			users[role+"@"+ten] = lb.signedIn(role + "@" + ten + ".example")
		}
	}
	anon := lb.client()
	id := uuid.NewString()
	n := 0
	for _, rt := range lb.con.Routes() {
		if !strings.HasPrefix(rt.Pattern, "/console/legal") {
			continue
		}
		n++
		key := rt.Method + " " + rt.Pattern
		path := strings.NewReplacer("{id}", "1", "{name}", "trademark_block", "{n}", "1", "{bank}", "marks").Replace(rt.Pattern)
		if strings.HasSuffix(rt.Pattern, "/designs/{id}") {
			path = strings.Replace(rt.Pattern, "{id}", id, 1)
		}
		var form url.Values
		if rt.Method != "GET" {
			form = url.Values{}
		}
		if resp, _ := anon.do(rt.Method, path, form, nil); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d", key, resp.StatusCode)
		}
		for who, c := range users {
			role, ten, _ := strings.Cut(who, "@")
			allowed := slices.Contains(rt.Roles, role) && (ten == "plat" || !lb.con.PlatformOnly(rt))
			if rt.Method != "GET" {
				if resp, _ := c.do(rt.Method, path, url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s without CSRF: %d", key, who, resp.StatusCode)
				}
				form = url.Values{"csrf": {c.csrf}}
			}
			resp, _ := c.do(rt.Method, path, form, nil)
			if !allowed && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s as %s (not allowed): %d", key, who, resp.StatusCode)
			}
			if allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
				t.Errorf("%s as %s (allowed): %d", key, who, resp.StatusCode)
			}
		}
		if rt.Method != "GET" && slices.Contains(rt.Roles, accounts.RoleReviewer) {
			t.Errorf("%s: reviewers may change legal's data", key)
		}
	}
	if n < 30 {
		t.Fatalf("only %d legal routes", n)
	}
	// One tenant's legal cannot touch another's allow-lists; the platform's can.
	acme, other := users["legal@acme"], lb.signedIn("legal@other.example")
	for _, tc := range []struct {
		c      *client
		method string
		path   string
		form   url.Values
		status int
	}{
		{other, "GET", "/console/legal/licences?tenant=" + lb.acme.ID, nil, 403},
		{other, "POST", "/console/legal/licences", url.Values{"tenant": {lb.acme.ID}, "bank": {"marks"}, "entry": {"x"}, "evidence": {"e"}}, 403},
		{other, "POST", "/console/legal/licences/revoke", url.Values{"tenant": {lb.acme.ID}, "bank": {"marks"}, "entry": {"x"}}, 403},
		{acme, "GET", "/console/legal/licences", nil, 200},
		{acme, "GET", "/console/legal", nil, 303},
		{users["legal@plat"], "GET", "/console/legal/licences?tenant=" + lb.other.ID, nil, 200},
	} {
		if tc.form != nil {
			tc.form.Set("csrf", tc.c.csrf)
		}
		if resp, _ := tc.c.do(tc.method, tc.path, tc.form, nil); resp.StatusCode != tc.status {
			t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.path, tc.c.email, resp.StatusCode, tc.status)
		}
	}
}
