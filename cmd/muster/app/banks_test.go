package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
)

// entryForm is a bank entry upload: the reference image and its metadata.
func entryForm(t *testing.T, img []byte, meta string) (io.Reader, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="image"; filename="ref.png"`)
	h.Set("Content-Type", "image/png")
	w, _ := mw.CreatePart(h)
	w.Write(img)
	mw.WriteField("entry", meta)
	mw.Close()
	return &body, mw.FormDataContentType()
}

// onCanvas draws the reference at (x, y) on a white w×w canvas.
func onCanvas(t *testing.T, ref []byte, w, x, y int) []byte {
	t.Helper()
	src, err := png.Decode(bytes.NewReader(ref))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, w))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, src.Bounds().Add(image.Pt(x, y)), src, image.Point{}, draw.Over)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// starPNG is an unrelated trademark entry, so the bank is never empty.
func starPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			if (x > 110 && x < 146) || (y > 110 && y < 146) || (x-y > -20 && x-y < 20) {
				img.SetNRGBA(x, y, color.NRGBA{200, 0, 40, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// TestBankAPIAndLicences is legal's bank workflow over the API with the
// real bank matcher: platform legal adds a logo entry by upload, the next
// design containing it is blocked where the mark is registered; the
// tenant's own legal records a licence, which turns that design's block
// into allow (a re-decision, no re-analysis) and lets new designs through;
// revoking it blocks again. Around it, the authorisation matrix of the bank
// and licence routes.
func TestBankAPIAndLicences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWith(t, withMarkBank(t, bank.AddRequest{Image: starPNG(t), Entry: bank.Entry{ID: "star", Label: "Star", Jurisdictions: []string{"FR"}}}))
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	legal, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleLegal, "")
	platReviewer, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "")
	tenantLegal, _, _ := b.st.CreateKey(ctx, b.tenantID, store.RoleLegal, "")
	other, _, _ := b.st.CreateTenant(ctx, "other", "")
	otherLegal, _, _ := b.st.CreateKey(ctx, other.ID, store.RoleLegal, "")

	ref := discPNG(t)
	meta := `{"id":"zorblax","label":"Zorblax","owner":"Zorblax Inc.","jurisdictions":["US"],"classes":[25],"word_marks":["Zorblax"]}`
	upload := func(key, meta string, img []byte) response {
		body, ct := entryForm(t, img, meta)
		return b.do("POST", "/v1/banks/acme-marks/entries", key, body, ct, nil)
	}
	js := func(s string) io.Reader { return strings.NewReader(s) }
	const ct = "application/json"

	// Refusals leave nothing behind.
	before := b.count(`SELECT count(*) FROM bank_entries`)
	refusals := []struct {
		name   string
		r      response
		status int
		code   string
	}{
		{"merchant cannot add entries", upload(b.key, meta, ref), 403, "forbidden"},
		{"a tenant's legal cannot add to platform banks", upload(tenantLegal, meta, ref), 403, "forbidden"},
		{"platform reviewer reads but cannot add", upload(platReviewer, meta, ref), 403, "forbidden"},
		{"not an image", upload(legal, meta, []byte("not an image at all")), 415, "unsupported_media_type"},
		{"unknown metadata field", upload(legal, `{"id":"x","label":"X","colour":"red"}`, ref), 400, "invalid_json"},
		{"bad jurisdiction", upload(legal, `{"id":"x","label":"X","jurisdictions":["usa"]}`, ref), 400, "invalid_entry"},
		{"unknown bank", b.do("GET", "/v1/banks/nope/entries", legal, nil, "", nil), 404, "not_found"},
		{"tenant legal cannot list banks", b.do("GET", "/v1/banks", tenantLegal, nil, "", nil), 403, "forbidden"},
		{"merchant cannot see licences", b.do("GET", "/v1/licences", b.key, nil, "", nil), 403, "forbidden"},
		{"other tenant cannot license for acme", b.do("POST", "/v1/licences", otherLegal, js(`{"bank":"acme-marks","entry_id":"star","tenant_id":"`+b.tenantID+`","evidence":"x"}`), ct, nil), 403, "forbidden"},
		{"other tenant cannot read acme's licences", b.do("GET", "/v1/licences?tenant="+b.tenantID, otherLegal, nil, "", nil), 403, "forbidden"},
		{"a licence needs evidence", b.do("POST", "/v1/licences", tenantLegal, js(`{"bank":"acme-marks","entry_id":"star"}`), ct, nil), 400, "missing_evidence"},
		{"a licence of an unknown entry", b.do("POST", "/v1/licences", tenantLegal, js(`{"bank":"acme-marks","entry_id":"nope","evidence":"x"}`), ct, nil), 404, "not_found"},
		{"threshold outside (0,1]", b.do("PUT", "/v1/banks/acme-marks/threshold", legal, js(`{"threshold":2}`), ct, nil), 400, "invalid_entry"},
	}
	for _, tc := range refusals {
		if tc.r.status != tc.status || tc.r.err.Error.Code != tc.code {
			t.Errorf("%s: got %d %s (%s), want %d %s", tc.name, tc.r.status, tc.r.err.Error.Code, tc.r.err.Error.Message, tc.status, tc.code)
		}
	}
	if n := b.count(`SELECT count(*) FROM bank_entries`); n != before {
		t.Fatalf("refused uploads left %d entries behind", n-before)
	}

	decide := func(n int, markets string) (string, map[string]mustertype.MarketVerdict) {
		t.Helper()
		f := form{file: onCanvas(t, ref, 600+n, 100, 120), fields: map[string]string{"markets": markets, "product": "tshirt"}}
		r := b.submit(f, "?wait=10s", nil)
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
		t.Fatalf("before the entry: US %s %+v, want allow", got["US"].Outcome, got["US"].Reasons)
	}

	// Legal adds the entry; the next design containing it is blocked in US.
	start := time.Now()
	if r := upload(legal, meta, ref); r.status != 201 {
		t.Fatalf("add entry: %d %+v", r.status, r.err)
	}
	var blocked string
	for n := 1; ; n++ {
		id, got := decide(n, "US,BR")
		if got["US"].Outcome == "block" {
			if r := got["US"].Reasons[0]; !slices.Contains(r.Found, "Zorblax (Zorblax Inc.)") || !strings.Contains(r.Message, "Zorblax") {
				t.Errorf("the merchant's reason does not name the mark: %+v", r)
			}
			if got["BR"].Outcome != "allow" {
				t.Errorf("BR %s: the mark is registered in the US only", got["BR"].Outcome)
			}
			t.Logf("an entry added over the API was found %v after the upload", time.Since(start).Round(time.Millisecond))
			blocked = id
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("an entry added over the API was not found within 10 s: %+v", got["US"])
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Read it back: search, image, audit; edit and disable.
	reads := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"search by word mark", "GET", "/v1/banks/acme-marks/entries?q=zorb", platReviewer, "", 200},
		{"reference image", "GET", "/v1/banks/acme-marks/entries/zorblax/image", legal, "", 200},
		{"audit", "GET", "/v1/banks/acme-marks/audit", legal, "", 200},
		{"edit the owner", "PATCH", "/v1/banks/acme-marks/entries/zorblax", legal, `{"owner":"Zorblax Holdings"}`, 200},
		{"id cannot change", "PATCH", "/v1/banks/acme-marks/entries/zorblax", legal, `{"id":"other"}`, 400},
		{"reviewer cannot edit", "PATCH", "/v1/banks/acme-marks/entries/zorblax", platReviewer, `{"owner":"x"}`, 403},
		{"reviewer cannot delete", "DELETE", "/v1/banks/acme-marks/entries/zorblax", platReviewer, "", 403},
	}
	for _, tc := range reads {
		var body io.Reader
		if tc.body != "" {
			body = js(tc.body)
		}
		if r := b.do(tc.method, tc.path, tc.key, body, ct, nil); r.status != tc.status {
			t.Errorf("%s: %d %+v, want %d", tc.name, r.status, r.err, tc.status)
		}
	}
	e, err := bank.NewStore(b.pool, nil).Entry(ctx, "acme-marks", "zorblax")
	if err != nil || e.Owner != "Zorblax Holdings" || len(e.Prepared) == 0 {
		t.Fatalf("after edit: owner %q, prepared %d bytes, err %v", e.Owner, len(e.Prepared), err)
	}

	// The tenant's legal records a licence: the blocked design is re-decided.
	// The answer is 202 with the durable re-decision job, which the tenant
	// follows to the end (another tenant cannot see it).
	redecided := func(r response) {
		t.Helper()
		loc := r.header.Get("Location")
		if r.status != 202 || !strings.HasPrefix(loc, "/v1/redecisions/") {
			t.Fatalf("licence change: %d %+v, Location %q; want 202 with the job", r.status, r.err, loc)
		}
		var j policy.Redecision
		for deadline := time.Now().Add(15 * time.Second); ; {
			if st := b.getJSON(loc, tenantLegal, &j); st != 200 {
				t.Fatalf("GET %s: %d", loc, st)
			}
			if j.Finished() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("re-decision not finished: %+v", j)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if j.Status != policy.BacktestDone || j.Kind != policy.RedecideLicence || j.Changed < 1 || j.TenantID != b.tenantID {
			t.Fatalf("re-decision job: %+v", j)
		}
		if st := b.do("GET", loc, otherLegal, nil, "", nil).status; st != 404 {
			t.Fatalf("another tenant reads the job: %d", st)
		}
	}
	redecided(b.do("POST", "/v1/licences", tenantLegal, js(`{"bank":"acme-marks","entry_id":"zorblax","evidence":"licence agreement ZX-2026-114"}`), ct, nil))
	latest := func(id string) (string, string) {
		var outcome, cause string
		if err := b.pool.QueryRow(ctx, `SELECT outcome, cause FROM verdicts WHERE design_id = $1 ORDER BY id DESC LIMIT 1`, id).Scan(&outcome, &cause); err != nil {
			t.Fatal(err)
		}
		return outcome, cause
	}
	if o, c := latest(blocked); o != "allow" || c != mustertype.CauseRedecide {
		t.Fatalf("after the licence the blocked design is %s (cause %s), want allow by redecide", o, c)
	}
	if r := b.do("GET", "/v1/designs/"+blocked, b.key, nil, "", nil); r.design.Verdict == nil || r.design.Verdict.Decision.Outcome() != "allow" {
		t.Fatalf("the merchant sees %+v", r.design.Verdict)
	}
	// A new design with the mark is allowed for the licensee once the
	// running set has the allow-list change.
	for n := 100; ; n++ {
		_, got := decide(n, "US")
		if got["US"].Outcome == "allow" {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("a licensed mark is still %s", got["US"].Outcome)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var lic struct {
		Licences []bank.Allow `json:"licences"`
	}
	if r := b.getJSON("/v1/licences", tenantLegal, &lic); r != 200 || len(lic.Licences) != 1 || lic.Licences[0].TenantID != b.tenantID {
		t.Fatalf("tenant's licences: %d %+v", r, lic)
	}
	if r := b.getJSON("/v1/licences", otherLegal, &lic); r != 200 || len(lic.Licences) != 0 {
		t.Fatalf("another tenant sees %d licences", len(lic.Licences))
	}
	// Revoking it blocks the design again.
	redecided(b.do("DELETE", "/v1/licences/acme-marks/zorblax", tenantLegal, nil, "", nil))
	if o, _ := latest(blocked); o != "block" {
		t.Fatalf("after revoking the licence the design is %s, want block", o)
	}
}

// getJSON GETs path with key and decodes a 200 body into v; it returns the
// status.
func (b *bundle) getJSON(path, key string, v any) int {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			b.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// withMarkBank is the pipeline option of the bank tests: the symbol bank
// seeded, a trademark bank "acme-marks" holding entries, a watching bank
// set (changes over the API reach it) behind the hash and bank analyzers,
// and the live policy (the default pack).
func withMarkBank(t *testing.T, entries ...bank.AddRequest) func(*bundle, *app.Options) {
	return func(b *bundle, o *app.Options) {
		ctx := context.Background()
		bst := bank.NewStore(b.pool, bank.NATSAnnouncer{Conn: b.nc})
		if _, err := bank.SeedSymbols(ctx, bst, match.Config{}, "test", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := bst.CreateBank(ctx, bank.Bank{Name: "acme-marks", Kind: bank.KindTrademark}, "test"); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := bank.AddImage(ctx, bst, "acme-marks", e, match.Config{}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		set, err := bank.NewSet(bst, bank.SetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Load(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		if err := set.Watch(wctx, b.nc); err != nil {
			t.Fatal(err)
		}
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, banks.New(set, banks.Config{})}
		o.Decider = nil // the live policy: the default pack
	}
}
