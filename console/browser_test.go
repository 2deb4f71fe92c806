package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/muster-dev/muster/console"
	"github.com/muster-dev/muster/internal/browsertest"
)

// signinSteps fills and submits the sign-in form. The old page's alert
// is removed first, so a later read of .alert waits for the new page.
func signinSteps(email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".alert").forEach(e => e.remove())`),
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
	)
}

// TestBrowserSignIn signs in in a real Chromium: a wrong password is
// refused with a message, five failures lock the account, the right
// user lands where they were going, a POST without the CSRF token is
// refused while htmx's header passes, and no page breaks the CSP.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, console.Config{})
	ctx := browsertest.New(t, browsertest.Options{})
	log := browsertest.Watch(t, ctx)
	alert := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".alert")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A page needs a session: the browser is sent to sign in.
	if err := chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+"/console/account")); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/console/signin?next=%2Fconsole%2Faccount") {
		t.Fatalf("location %s", loc)
	}
	if err := chromedp.Do(ctx, signinSteps("reviewer@acme.example", "wrong password!!")); err != nil {
		t.Fatal(err)
	}
	if got := alert(); got != "Wrong email or password." {
		t.Fatalf("alert %q", got)
	}
	for range 4 {
		if err := chromedp.Do(ctx, signinSteps("reviewer@acme.example", "wrong password!!")); err != nil {
			t.Fatal(err)
		}
	}
	if got := alert(); !strings.Contains(got, "locked until") {
		t.Fatalf("after five failures: %q", got)
	}
	if err := chromedp.Do(ctx, signinSteps("reviewer@acme.example", pw)); err != nil {
		t.Fatal(err)
	}
	if got := alert(); !strings.Contains(got, "locked until") {
		t.Fatalf("right password while locked: %q", got)
	}
	// Another user signs in and comes back to the page they asked for.
	if err := chromedp.Do(ctx, signinSteps("admin@acme.example", pw), chromedp.WaitVisible(chromedp.CSS("#prefs-title"))); err != nil {
		t.Fatal(err)
	}
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/console/account") {
		t.Fatalf("after sign-in: %s", loc)
	}
	// CSRF: a script-made POST without the token is refused; with the
	// token htmx sends (from <body hx-headers>) it passes.
	post := func(withToken bool) int {
		t.Helper()
		js := `(async () => {
			const h = {"Content-Type": "application/x-www-form-urlencoded"};
			if (` + map[bool]string{true: "true", false: "false"}[withToken] + `) {
				h["X-CSRF-Token"] = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
				h["HX-Request"] = "true";
			}
			const r = await fetch("/console/account/prefs", {method: "POST", headers: h, body: "greyscale=on", redirect: "manual"});
			return r.status;
		})()`
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := post(false); n != 403 {
		t.Fatalf("POST without CSRF token: %d", n)
	}
	if n := post(true); n != 204 {
		t.Fatalf("POST with CSRF token: %d", n)
	}
	// The preference is applied; sign-out needs no script.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("body.pref-greyscale"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "account")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#email"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the last console messages arrive
	if errs := log.Errors(); len(errs) > 0 {
		for _, e := range errs {
			// The refused POSTs and sign-ins log their status codes; a CSP
			// violation or a script error is a failure.
			if strings.Contains(e, "Content Security Policy") || strings.Contains(e, "Uncaught") {
				t.Errorf("console: %s", e)
			}
		}
	}
}
