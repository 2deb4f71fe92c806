package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/browsertest"
	"github.com/muster-dev/muster/mustertype"
)

// TestLegalConsoleInBrowser is legal's workspace end to end in headless
// Chromium against the whole pipeline (real bank matcher, live policy):
// legal adds a logo entry by upload and the next design containing it is
// flagged (the latency is logged); legal makes the trademark rules
// stricter for one market (BR, where the mark is not registered), sees a
// validation error while typing and fixes it, backtests the draft and reads
// the changed design, publishes, and a new design is decided by the new
// rule; a licence for the merchant turns the blocked design into allow.
func TestLegalConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWith(t, func(b *bundle, o *app.Options) {
		withMarkBank(t, bank.AddRequest{Image: starPNG(t), Entry: bank.Entry{ID: "star", Label: "Star", Jurisdictions: []string{"FR"}}})(b, o)
		o.Accounts = &accounts.Config{Params: accounts.TestParams}
	})
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(b.pool, accounts.Config{Params: accounts.TestParams})
	if _, err := acc.CreateUser(ctx, accounts.NewUser{TenantID: plat.ID, Email: "lena@platform.example", Role: accounts.RoleLegal, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	ref := discPNG(t)
	refPath := filepath.Join(t.TempDir(), "zorblax.png")
	if err := os.WriteFile(refPath, ref, 0o600); err != nil {
		t.Fatal(err)
	}
	decide := func(n int, markets string) (string, map[string]mustertype.MarketVerdict) {
		t.Helper()
		r := b.submit(form{file: onCanvas(t, ref, 600+n, 100, 120), fields: map[string]string{"markets": markets, "product": "tshirt"}}, "?wait=10s", nil)
		if r.design.Verdict == nil {
			t.Fatalf("no verdict (%d %+v)", r.status, r.err)
		}
		out := map[string]mustertype.MarketVerdict{}
		for _, m := range r.design.Verdict.Decision.Markets {
			out[m.Market] = m
		}
		return r.design.ID, out
	}
	if _, got := decide(0, "US,BR"); got["US"].Outcome != "allow" {
		t.Fatalf("before the entry: US %s %+v", got["US"].Outcome, got["US"].Reasons)
	}

	bctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})
	log := browsertest.Watch(t, bctx)
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("at %s: %v\n%s", loc, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}

	// 1. Sign in; add the logo entry by upload.
	run(chromedp.Navigate(b.url+"/console/legal/banks/acme-marks"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SetValue(chromedp.CSS("#email"), "lena@platform.example"),
		chromedp.SetValue(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#add-entry")),
		chromedp.SetUploadFiles(chromedp.CSS("#image"), []string{refPath}),
		chromedp.SetValue(chromedp.CSS("#entry-id"), "zorblax"),
		chromedp.SetValue(chromedp.CSS("#label"), "Zorblax"),
		chromedp.SetValue(chromedp.CSS("#owner"), "Zorblax Inc."),
		chromedp.SetValue(chromedp.CSS("#jurisdictions"), "US"),
		chromedp.SetValue(chromedp.CSS("#classes"), "25"),
		chromedp.SetValue(chromedp.CSS("#word_marks"), "Zorblax"),
		chromedp.Click(chromedp.CSS("#add-entry-button")),
		chromedp.WaitVisible(chromedp.CSS("#entry-stats")))
	added := time.Now()
	var blocked string
	for n := 1; ; n++ {
		id, got := decide(n, "US,BR")
		if got["US"].Outcome == "block" {
			if got["BR"].Outcome != "allow" {
				t.Fatalf("BR %s before the stricter rule", got["BR"].Outcome)
			}
			t.Logf("an entry added in the console was found in design #%d submitted after it, %v after the upload completed (including that design's analysis)",
				n, time.Since(added).Round(time.Millisecond))
			blocked = id
			break
		}
		if time.Since(added) > 10*time.Second {
			t.Fatalf("the console's entry was not found within 10 s: %+v", got["US"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(chromedp.Navigate(b.url+"/console/legal/banks/acme-marks"), chromedp.WaitVisible(chromedp.CSS(`tr[data-entry="zorblax"]`)))
	if got := text(`tr[data-entry="zorblax"] td:nth-child(6)`); got != "1" {
		t.Fatalf("zorblax matched %q designs", got)
	}

	// 2. A stricter rule for BR: a mark matched with a block-grade score is
	// blocked there even without a known registration (terms ground).
	run(chromedp.Navigate(b.url+"/console/legal/rules/new"), chromedp.WaitVisible(chromedp.CSS("#rule-form")),
		chromedp.SetValue(chromedp.CSS("#name"), "trademark_br_strict"),
		chromedp.SetValue(chromedp.CSS("#description"), "Matched mark on BR storefronts"),
		chromedp.SetValue(chromedp.CSS("#markets"), "BR"),
		chromedp.SetValue(chromedp.CSS("#scope"), "finding"),
		chromedp.SetValue(chromedp.CSS("#outcome"), "block"),
		chromedp.SetValue(chromedp.CSS("#code"), "trademark_terms_br"),
		chromedp.SetValue(chromedp.CSS("#ground_kind"), "terms"),
		chromedp.SetValue(chromedp.CSS("#ground_ref"), "Merchant terms 7.1"),
		chromedp.SetValue(chromedp.CSS("#ground_explanation"), "designs using third-party marks are not sold in BR"),
		chromedp.SetValue(chromedp.CSS("#when"), "f.type == 'trademark' && !f.allowlisted\n&& f.score >= params.trademark_block_sco"))
	// Type the end of the condition, key by key: a typo, reported at its
	// line and column while typing, then the fix.
	typeAtEnd := func(keys string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => { const e = document.getElementById("when"); e.focus(); e.setSelectionRange(e.value.length, e.value.length); return true; })()`)); err != nil {
			t.Fatal(err)
		}
		run(chromedp.SendKeys(chromedp.CSS("#when"), keys))
	}
	typeAtEnd("rx")
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector("#rule-errors").textContent.includes("trademark_block_scorx")`)); err != nil {
		t.Fatalf("no validation error while typing: %v (%q)", err, text("#rule-errors"))
	}
	if got := text("#rule-errors"); !strings.Contains(got, "line 2, column 21") || !strings.Contains(got, "undeclared reference to 'params.trademark_block_scorx'") {
		t.Fatalf("validation error as typed: %q", got)
	}
	typeAtEnd("\b")
	typeAtEnd("e")
	run(chromedp.WaitVisible(chromedp.CSS("#rule-errors p.ok")))
	// Preview on the blocked design before saving.
	run(chromedp.SetValue(chromedp.CSS("#design"), blocked), chromedp.Click(chromedp.CSS("#preview-button")),
		chromedp.WaitVisible(chromedp.CSS(`#preview tr[data-market="BR"]`)))
	if got := text(`#preview tr[data-market="BR"]`); !strings.Contains(got, "allow") || !strings.Contains(got, "block") || !strings.Contains(got, "trademark_terms_br") {
		t.Fatalf("preview BR: %q", got)
	}
	run(chromedp.Click(chromedp.CSS("#save-rule")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text(".notice"); !strings.Contains(got, "Rule saved") {
		t.Fatalf("after save: %q", got)
	}

	// 3. Backtest the draft and read the changed design.
	run(chromedp.Navigate(b.url+"/console/legal/backtests"), chromedp.WaitVisible(chromedp.CSS("#start-backtest")),
		chromedp.SetValue(chromedp.CSS("#days"), "1"), chromedp.Click(chromedp.CSS("#start-backtest")),
		chromedp.WaitVisible(chromedp.CSS("#progress")))
	run(chromedp.WaitVisible(chromedp.CSS("#backtest-result")))
	if got := text(`#backtest-result tr[data-market="BR"]`); !strings.Contains(got, "allow → block") {
		t.Fatalf("backtest BR row: %q", got)
	}
	if got := text("#backtest-summary"); !strings.Contains(got, "change outcome") {
		t.Fatalf("summary %q", got)
	}
	browsertest.Screenshot(t, bctx, "backtest")
	run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#backtest-result tr[data-market="BR"] a.changed-design[data-design="%s"]`, blocked))),
		chromedp.WaitVisible(chromedp.CSS("#verdict")))
	if got := text(`#verdict tr[data-market="US"]`); !strings.Contains(got, "block") {
		t.Fatalf("the changed design's page: %q", got)
	}

	// 4. Publish; a new design is decided by the new rule.
	run(chromedp.Navigate(b.url+"/console/legal/publish"), chromedp.WaitVisible(chromedp.CSS("#publish-form")),
		chromedp.SetValue(chromedp.CSS("#publish-note"), "Block matched third-party marks in BR (terms 7.1)"),
		chromedp.Click(chromedp.CSS("#publish")), chromedp.WaitVisible(chromedp.CSS("#versions")))
	if got := text(`#versions tr[data-version="2"]`); !strings.Contains(got, "Block matched third-party marks in BR") || !strings.Contains(got, "user:lena@platform.example") {
		t.Fatalf("versions: %q", got)
	}
	published := time.Now()
	for n := 50; ; n++ {
		_, got := decide(n, "US,BR")
		if got["BR"].Outcome == "block" && got["BR"].Reasons[0].Code == "trademark_terms_br" {
			t.Logf("a new design was decided by the published rule %v after publishing (deciders poll the policy every 5 s)", time.Since(published).Round(time.Millisecond))
			break
		}
		if time.Since(published) > 15*time.Second {
			t.Fatalf("new designs are not decided by the published rule: BR %+v", got["BR"])
		}
		time.Sleep(200 * time.Millisecond)
	}

	// 5. A licence for the merchant turns the blocked design into allow.
	run(chromedp.Navigate(b.url+"/console/legal/licences?tenant="+b.tenantID), chromedp.WaitVisible(chromedp.CSS("#grant-licence")),
		chromedp.SetValue(chromedp.CSS("#licence-bank"), "acme-marks"),
		chromedp.SetValue(chromedp.CSS("#licence-entry"), "zorblax"),
		chromedp.SetValue(chromedp.CSS("#evidence"), "licence agreement ZX-2026-114"),
		chromedp.Click(chromedp.CSS("#grant")), chromedp.WaitVisible(chromedp.CSS(`#licences tr[data-entry="zorblax"]`)))
	// The re-decision is a durable job (woken at once in this process).
	var outcome, cause string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := b.pool.QueryRow(ctx, `SELECT outcome, cause FROM verdicts WHERE design_id = $1 ORDER BY id DESC LIMIT 1`, blocked).Scan(&outcome, &cause); err != nil {
			t.Fatal(err)
		}
		if cause == mustertype.CauseRedecide || time.Now().After(deadline) {
			break
		}
	}
	if outcome != "allow" || cause != mustertype.CauseRedecide {
		t.Fatalf("after the licence the blocked design is %s (%s), want allow by redecide", outcome, cause)
	}
	if r := b.do("GET", "/v1/designs/"+blocked, b.key, nil, "", nil); r.design.Verdict == nil || r.design.Verdict.Decision.Outcome() != "allow" {
		t.Fatalf("the merchant sees %+v", r.design.Verdict)
	}
	run(chromedp.Navigate(b.url+"/console/legal/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if got := text("#audit"); !strings.Contains(got, "publish") || !strings.Contains(got, "redecide.queue") || !strings.Contains(got, "backtest.start") {
		t.Fatalf("audit: %q", got)
	}
	for _, e := range log.Errors() {
		if strings.Contains(e, "Content Security Policy") || strings.Contains(e, "Uncaught") {
			t.Errorf("browser console: %s", e)
		}
	}
}
