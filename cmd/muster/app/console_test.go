package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/internal/browsertest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
)

// logoAnalyzer "finds" a trademark in a box of every design, so the item
// page has a box to draw, and suggestive content, so the design is blurred.
// It stands in for the bank analyzer (its findings offer "not this mark").
type logoAnalyzer struct{}

func (logoAnalyzer) Name() string    { return mustertype.AnalyzerBank }
func (logoAnalyzer) Version() string { return "test-1" }
func (logoAnalyzer) Analyze(_ context.Context, d *analyzers.Design) (analyzers.Result, error) {
	f := mustertype.Finding{Type: mustertype.FindingTrademark, Bank: "test", EntryID: "acme", Label: "Acme logo", Score: 0.71,
		Box: &mustertype.Box{X: 4, Y: 6, W: 20, H: 12}, Attrs: mustertype.Attrs{Owner: "Acme Corp", Jurisdictions: []string{"EU"}}}
	nsfw := mustertype.Finding{Type: mustertype.FindingNSFW, Label: mustertype.CategorySexualSuggestive, Score: 0.8}
	return analyzers.Result{Data: map[string]int{"found": 1}, Findings: []mustertype.Finding{f, nsfw}}, nil
}

// titleAnalyzer stands in for the listing analyzer: the word mark "Acme"
// in the title, so the item page shows a text finding with its own "not
// this mark".
type titleAnalyzer struct{}

func (titleAnalyzer) Name() string    { return mustertype.AnalyzerListing }
func (titleAnalyzer) Version() string { return "test-1" }
func (titleAnalyzer) Analyze(_ context.Context, d *analyzers.Design) (analyzers.Result, error) {
	f := mustertype.Finding{Type: mustertype.FindingTrademark, Bank: "test", EntryID: "acme", Label: "Acme", Score: 1,
		Attrs: mustertype.Attrs{Match: "text", Field: "title", Text: "Acme", Method: "exact", Jurisdictions: []string{"EU", "US"}}}
	return analyzers.Result{Data: map[string]int{"found": 1}, Findings: []mustertype.Finding{f}}, nil
}

// consoleSetup is a pipeline whose policy holds DE for review, with the
// console's fast heartbeat, and a platform reviewer and another tenant's
// reviewer as console users.
func consoleSetup(t *testing.T) (*bundle, *accounts.Service) {
	t.Helper()
	b := setup(t, func(o *app.Options) {
		o.Decider = reviewDecider{}
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, logoAnalyzer{}, titleAnalyzer{}}
		o.Accounts = &accounts.Config{Params: accounts.TestParams}
		o.Console = &console.Config{HeartbeatEvery: time.Second}
	})
	ctx := context.Background()
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := b.st.CreateTenant(ctx, "other", "")
	acc := accounts.New(b.pool, accounts.Config{Params: accounts.TestParams})
	for _, u := range []accounts.NewUser{
		{TenantID: plat.ID, Email: "rita@platform.example", Role: accounts.RoleReviewer, Password: "correct horse battery"},
		{TenantID: other.ID, Email: "otto@other.example", Role: accounts.RoleReviewer, Password: "correct horse battery"},
		{TenantID: b.tenantID, Email: "anna@acme.example", Role: accounts.RoleReviewer, Password: "correct horse battery"},
	} {
		if _, err := acc.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return b, acc
}

// TestConsoleReviewInBrowser: a platform reviewer signs in in headless
// Chromium, starts reviewing, sees the design with its finding's box and
// the per-market outcomes, keeps the lease alive by heartbeat, decides by
// keyboard (a = allow every market, n = submit & next), lands on the empty
// queue, and the merchant's GET /v1/designs/{id} shows the human outcome.
func TestConsoleReviewInBrowser(t *testing.T) {
	t.Parallel()
	b, _ := consoleSetup(t)
	r := b.submit(form{file: pngOf(t, 41), fields: map[string]string{"markets": "DE,US", "product": "tshirt", "title": "Acme fan shirt"}}, "?wait=10s", nil)
	if r.status != 201 || r.design.Verdict == nil || r.design.Verdict.Outcome != mustertype.Review {
		t.Fatalf("submit: %d %+v", r.status, r.design.Verdict)
	}
	designID := r.design.ID

	// A 1280×800 window: the laptop a reviewer works on.
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second, Width: 1280, Height: 800})
	log := browsertest.Watch(t, ctx)
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	run(chromedp.Navigate(b.url+"/console/review"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SetValue(chromedp.CSS("#email"), "rita@platform.example"),
		chromedp.SetValue(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("table.queues")))
	if got := text(`tr[data-queue="trademarks"] td`); got != "1" {
		t.Fatalf("trademarks queue waiting: %q", got)
	}
	run(chromedp.Click(chromedp.CSS(`button[data-key="start"]`)), chromedp.WaitVisible(chromedp.CSS("#decision")))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	itemURL := loc
	if !regexp.MustCompile(`/console/review/items/\d+$`).MatchString(loc) {
		t.Fatalf("after claim: %s", loc)
	}
	// The design is served through the authenticated route and has loaded;
	// the finding's box is drawn over it; both markets are listed.
	loaded, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.querySelector(".design img"); return i.complete && i.naturalWidth === 48; })()`))
	if err != nil || !loaded {
		t.Fatalf("design image not loaded: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.boxes rect").length`)); n != 1 {
		t.Fatalf("%d boxes drawn", n)
	}
	// Beside the finding, the matched region cut out of the design.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".sensitive-crops svg.crop image").length`)); n != 1 {
		t.Fatalf("%d matched-region crops (blurred while the design is)", n)
	}
	if got := text(`tr[data-market="DE"] td:nth-child(2)`); got != "review" {
		t.Fatalf("DE automated %q", got)
	}
	if got := text(`tr[data-market="DE"] td:nth-child(3)`); !strings.Contains(got, "trademark_possible") {
		t.Fatalf("DE reasons %q", got)
	}
	// The heartbeat renews the lease while the page is open.
	var before, after time.Time
	b.pool.QueryRow(context.Background(), `SELECT lease_until FROM review_items WHERE design_id = $1`, designID).Scan(&before)
	time.Sleep(2500 * time.Millisecond)
	b.pool.QueryRow(context.Background(), `SELECT lease_until FROM review_items WHERE design_id = $1`, designID).Scan(&after)
	if !after.After(before) {
		t.Fatalf("lease not renewed by the heartbeat: %v → %v", before, after)
	}
	// Layout at 1280 px: the findings table fits its panel (no column,
	// "not this mark" included, scrolled out of view) and the skip and
	// escalate controls sit on the decision form's left edge.
	layout, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const out = [];
		const p = document.querySelector("table.findings").closest(".panel");
		if (p.scrollWidth > p.clientWidth) out.push("findings panel scrolls: " + p.scrollWidth + " > " + p.clientWidth);
		const right = p.getBoundingClientRect().right;
		const buttons = [...document.querySelectorAll(".not-this-mark button")];
		if (buttons.length !== 2) out.push(buttons.length + " not-this-mark buttons");
		for (const b of buttons) if (b.getBoundingClientRect().right > right) out.push("a not-this-mark button past the panel");
		const left = document.querySelector("#decision").getBoundingClientRect().left;
		for (const sel of [".skip-form", ".escalate", "#escalate-queue"]) {
			const l = document.querySelector(sel).getBoundingClientRect().left;
			if (Math.abs(l - left) > 1) out.push(sel + " at " + l + ", the decision form at " + left);
		}
		return out.join("; ");
	})()`))
	if err != nil || layout != "" {
		t.Errorf("item page layout at 1280 px: %s %v", layout, err)
	}
	browsertest.Screenshot(t, ctx, "item")
	// Wellness: sexual content is blurred until revealed (click or r).
	run(chromedp.WaitVisible(chromedp.CSS(".design.sensitive.blurred")), chromedp.Click(chromedp.CSS("[data-reveal]")),
		chromedp.WaitVisible(chromedp.CSS(".design.revealed")), chromedp.KeyEvent("r"), chromedp.WaitVisible(chromedp.CSS(".design.blurred")))
	// Keyboard: ? opens the help; a allows every market (and picks an allow
	// reason); n submits and asks for the next item.
	run(chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS("#help")), chromedp.KeyEvent("\x1b"))
	// j focuses the first market (DE), b blocks only it and picks a block reason.
	run(chromedp.KeyEvent("j"), chromedp.KeyEvent("b"))
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("tr[data-market] input:checked")].map(i => i.name + "=" + i.value).join(",") + ";" +
		document.querySelector("#reason option:checked").dataset.outcome`))
	if err != nil || state != "m_DE=block,m_US=keep;block" {
		t.Fatalf("after j b: %q %v", state, err)
	}
	run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#decision")))
	run(chromedp.KeyEvent("a"))
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#reason"))); v == "" {
		t.Fatal("a did not choose an allow reason")
	}
	run(chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS("table.queues")))
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/console/review?empty=trademarks") {
		t.Fatalf("after submit & next: %s", loc)
	}
	if got := text(".notice"); !strings.Contains(got, "Nothing is waiting in trademarks") {
		t.Fatalf("notice %q", got)
	}
	// The merchant sees the human decision.
	g := b.do("GET", "/v1/designs/"+designID, b.key, nil, "", nil)
	if g.design.Verdict == nil || g.design.Verdict.Outcome != mustertype.Allow {
		t.Fatalf("merchant sees %+v", g.design.Verdict)
	}
	var cause, actor string
	b.pool.QueryRow(context.Background(), `SELECT cause, actor FROM verdicts WHERE design_id = $1 ORDER BY id DESC LIMIT 1`, designID).Scan(&cause, &actor)
	if cause != mustertype.CauseReview || actor != "user:rita@platform.example" {
		t.Fatalf("latest verdict cause %q actor %q", cause, actor)
	}
	// The decided item reads back, with the decision and the audit trail.
	run(chromedp.Navigate(itemURL), chromedp.WaitVisible(chromedp.CSS("#history-title")))
	if got := text(".lease"); !strings.Contains(got, "Decided by user:rita@platform.example") {
		t.Fatalf("decided item: %q", got)
	}
	run(chromedp.Navigate(b.url+"/console/review/audit?design="+designID), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := text("main table tbody"); !strings.Contains(got, "item.decided") || !strings.Contains(got, "item.claimed") {
		t.Fatalf("audit: %q", got)
	}
	// The items list (with its bulk form) and the reviewers' statistics,
	// as a reviewer sees them after the decision (screenshots for review).
	run(chromedp.Navigate(b.url+"/console/review/items?state=decided"), chromedp.WaitVisible(chromedp.CSS("main table")))
	browsertest.Screenshot(t, ctx, "items")
	run(chromedp.Navigate(b.url+"/console/review/stats"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if got := text("main table tbody"); !strings.Contains(got, "rita@platform.example") {
		t.Fatalf("stats: %q", got)
	}
	browsertest.Screenshot(t, ctx, "stats")
	// Access transparency: every view of the design above was logged — the
	// item page, its image, the audit drill-down — and the design's tenant
	// reads who looked (the API; the console page from the item page).
	run(chromedp.Navigate(itemURL), chromedp.WaitVisible(chromedp.CSS("#history-title")),
		chromedp.Click(chromedp.CSS(`a[href$="/access"]`)), chromedp.WaitVisible(chromedp.CSS("table#access")))
	got := text("table#access tbody")
	for _, view := range []string{"item", "image", "audit"} {
		if !strings.Contains(got, "user:rita@platform.example\t"+view) {
			t.Errorf("access page lacks rita's %s view: %q", view, got)
		}
	}
	var access struct {
		Access []review.Access `json:"access"`
	}
	if st, code := b.call("GET", "/v1/designs/"+designID+"/access", b.key, "", &access); st != 200 || len(access.Access) < 3 {
		t.Fatalf("the merchant's access list: %d %s %+v", st, code, access.Access)
	}
	for _, e := range log.Errors() {
		if strings.Contains(e, "Content Security Policy") || strings.Contains(e, "Uncaught") {
			t.Errorf("console: %s", e)
		}
	}
}

// TestConsoleReviewTenantScope: another tenant's reviewer neither sees the
// item nor its image; the design's own tenant's reviewer does.
func TestConsoleReviewTenantScope(t *testing.T) {
	t.Parallel()
	b, _ := consoleSetup(t)
	r := b.submit(form{file: pngOf(t, 42), fields: map[string]string{"markets": "DE", "product": "tshirt"}}, "?wait=10s", nil)
	if r.design.Verdict == nil || r.design.Verdict.Outcome != mustertype.Review {
		t.Fatalf("submit: %+v", r.design.Verdict)
	}
	var itemID string
	b.pool.QueryRow(context.Background(), `SELECT id::text FROM review_items WHERE design_id = $1`, r.design.ID).Scan(&itemID)
	signin := func(email string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Get(b.url + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		buf := new(strings.Builder)
		_, _ = io.Copy(buf, resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(buf.String())
		resp, err = c.PostForm(b.url+"/console/signin", url.Values{"csrf": {m[1]}, "email": {email}, "password": {"correct horse battery"}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign in %s: %v %v", email, err, resp.StatusCode)
		}
		resp.Body.Close()
		return c
	}
	tests := []struct {
		email string
		want  int
	}{
		{"otto@other.example", 404},
		{"anna@acme.example", 200},
		{"rita@platform.example", 200},
	}
	for _, tt := range tests {
		c := signin(tt.email)
		for _, path := range []string{"/console/review/items/" + itemID, "/console/designs/" + r.design.ID + "/image"} {
			resp, err := c.Get(b.url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s GET %s: %d, want %d", tt.email, path, resp.StatusCode, tt.want)
			}
		}
		resp, _ := c.Get(b.url + "/console/review/items?state=open")
		buf := new(strings.Builder)
		_, _ = io.Copy(buf, resp.Body)
		resp.Body.Close()
		if seen := strings.Contains(buf.String(), "/console/review/items/"+itemID+`"`); seen != (tt.want == 200) {
			t.Errorf("%s lists the item: %v", tt.email, seen)
		}
	}
}

// consoleClient is a signed-in console user over plain HTTP (no browser):
// it keeps the cookies and the session's CSRF token.
type consoleClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
	// last is where the last POST's redirects ended.
	last string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *bundle) consoleUser(t *testing.T, email string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, base: b.url, c: &http.Client{Jar: jar}}
	page := cc.get("/console/signin")
	page = cc.post("/console/signin", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "email": {email}, "password": {"correct horse battery"}}, 200)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s: not signed in:\n%s", email, page)
	}
	cc.csrf = m[1]
	return cc
}

func (cc *consoleClient) get(path string) string {
	cc.t.Helper()
	resp, err := cc.c.Get(cc.base + path)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, resp.Body)
	return buf.String()
}

// post sends a form (the CSRF token added) and follows redirects; it
// fails the test unless the final status is want.
func (cc *consoleClient) post(path string, form url.Values, want int) string {
	cc.t.Helper()
	if cc.csrf != "" {
		form.Set("csrf", cc.csrf)
	}
	resp, err := cc.c.PostForm(cc.base+path, form)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, resp.Body)
	if resp.StatusCode != want {
		cc.t.Fatalf("POST %s: %d, want %d:\n%s", path, resp.StatusCode, want, buf.String())
	}
	cc.last = resp.Request.URL.Path + "?" + resp.Request.URL.RawQuery
	return buf.String()
}

// TestConsoleAppealFourEyes: a reviewer blocks DE in the console; the
// merchant appeals; the same reviewer is not handed the appeal (four
// eyes), another reviewer is, sees the appeal in the item page and
// overturns it; the merchant sees the block lifted.
func TestConsoleAppealFourEyes(t *testing.T) {
	t.Parallel()
	b, acc := consoleSetup(t)
	plat, _ := b.st.Tenant(context.Background(), "platform")
	if _, err := acc.CreateUser(context.Background(), accounts.NewUser{TenantID: plat.ID, Email: "bo@platform.example", Role: accounts.RoleReviewer, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	r := b.submit(form{file: pngOf(t, 43), fields: map[string]string{"markets": "DE,US", "product": "tshirt"}}, "?wait=10s", nil)
	if r.design.Verdict == nil || r.design.Verdict.Outcome != mustertype.Review {
		t.Fatalf("submit: %+v", r.design.Verdict)
	}
	rita := b.consoleUser(t, "rita@platform.example")
	page := rita.post("/console/review/next", url.Values{}, 200)
	m := regexp.MustCompile(`action="/console/review/items/(\d+)/decision"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no item page after claim:\n%s", page)
	}
	rita.post("/console/review/items/"+m[1]+"/decision", url.Values{"m_DE": {"block"}, "m_US": {"keep"}, "reason": {"trademark_infringement"}, "note": {"clear copy"}, "next": {"1"}}, 200)
	g := b.do("GET", "/v1/designs/"+r.design.ID, b.key, nil, "", nil)
	if g.design.Verdict == nil || g.design.Verdict.Outcome != mustertype.Block {
		t.Fatalf("after block: %+v", g.design.Verdict)
	}
	if status, code := b.call("POST", "/v1/designs/"+r.design.ID+"/appeals", b.key, `{"message":"I own this mark"}`, nil); status != 201 {
		t.Fatalf("appeal: %d %s", status, code)
	}
	// Four eyes: Rita is not handed her own decision's appeal.
	rita.post("/console/review/next", url.Values{"queue": {"appeals"}}, 200)
	if !strings.Contains(rita.last, "empty=appeals") {
		t.Fatalf("rita was handed the appeal: %s", rita.last)
	}
	bo := b.consoleUser(t, "bo@platform.example")
	page = bo.post("/console/review/next", url.Values{"queue": {"appeals"}}, 200)
	if !strings.Contains(page, "I own this mark") || !strings.Contains(page, "user:rita@platform.example made the appealed decision") {
		t.Fatalf("appeal page:\n%s", page)
	}
	m = regexp.MustCompile(`action="/console/review/items/(\d+)/decision"`).FindStringSubmatch(page)
	bo.post("/console/review/items/"+m[1]+"/decision", url.Values{"appeal": {"overturn"}, "reason": {"licensed"}, "next": {"1"}}, 200)
	g = b.do("GET", "/v1/designs/"+r.design.ID, b.key, nil, "", nil)
	if g.design.Verdict == nil || g.design.Verdict.Outcome != mustertype.Allow {
		t.Fatalf("after overturn: %+v", g.design.Verdict)
	}
}
