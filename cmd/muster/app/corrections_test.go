package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/listing"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// TestNotThisMarkEndToEnd: a design showing two registered marks is
// blocked; the merchant appeals; a reviewer marks one finding "not this
// mark". The same bytes uploaded again raise only the other mark; other
// bytes with the corrected mark still raise it; the bank API counts the
// misfire.
func TestNotThisMarkEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWith(t, withMarkBank(t,
		bank.AddRequest{Image: starPNG(t), Entry: bank.Entry{ID: "star", Label: "star", Jurisdictions: []string{"US"}, Classes: []int{25}}},
		bank.AddRequest{Image: discPNG(t), Entry: bank.Entry{ID: "zorblax", Label: "zorblax", Jurisdictions: []string{"US"}, Classes: []int{25}}}))
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	reviewer, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "")
	legal, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleLegal, "")

	both := twoMarks(t, 900)
	submit := func(img []byte, title string) api.DesignView {
		t.Helper()
		r := b.submit(form{file: img, fields: map[string]string{"markets": "US", "product": "tshirt", "title": title}}, "?wait=15s", nil)
		if r.design.Verdict == nil {
			t.Fatalf("%s: no verdict (%d %+v)", title, r.status, r.err)
		}
		return r.design
	}
	entries := func(d api.DesignView) map[string]bool {
		out := map[string]bool{}
		for _, f := range d.Findings {
			if f.Bank == "acme-marks" {
				out[f.EntryID] = true
			}
		}
		return out
	}
	first := submit(both, "two marks")
	if got := entries(first); !got["star"] || !got["zorblax"] || first.Verdict.Outcome != "block" {
		t.Fatalf("first upload: %s with entries %v, want a block with star and zorblax", first.Verdict.Outcome, got)
	}
	// The merchant appeals; a reviewer takes the appeal and marks the star
	// finding wrong.
	it := appealAndClaim(t, b, first.ID, "there is no star in my design", reviewer)
	var c review.Correction
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/corrections", reviewer, `{"bank":"acme-marks","entry_id":"star","note":"a plain cross"}`, &c); st != 201 || c.Scope != "all" {
		t.Fatalf("not this mark: %d %s %+v", st, code, c)
	}
	tests := []struct {
		name      string
		img       []byte
		star, zor bool
	}{
		{"the same bytes again: only the other mark", both, false, true},
		{"other bytes with the star: still raised", twoMarks(t, 940), true, true},
	}
	for _, tt := range tests {
		d := submit(tt.img, tt.name)
		if got := entries(d); got["star"] != tt.star || got["zorblax"] != tt.zor {
			t.Errorf("%s: entries %v, want star %v zorblax %v", tt.name, got, tt.star, tt.zor)
		}
	}
	var list struct {
		Entries []struct {
			ID       string `json:"id"`
			Misfires int    `json:"misfires"`
		} `json:"entries"`
	}
	if st, code := b.call("GET", "/v1/banks/acme-marks/entries", legal, "", &list); st != 200 {
		t.Fatalf("bank entries: %d %s", st, code)
	}
	mis := map[string]int{}
	for _, e := range list.Entries {
		mis[e.ID] = e.Misfires
	}
	if mis["star"] != 1 || mis["zorblax"] != 0 {
		t.Fatalf("misfires %v, want star 1", mis)
	}
}

// twoMarks draws the star and the disc marks side by side on a white
// w×w/2 canvas (w changes the bytes, not what is shown).
func twoMarks(t *testing.T, w int) []byte {
	t.Helper()
	dst := image.NewNRGBA(image.Rect(0, 0, w, w/2))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, ref := range [][]byte{starPNG(t), discPNG(t)} {
		src, err := png.Decode(bytes.NewReader(ref))
		if err != nil {
			t.Fatal(err)
		}
		draw.Draw(dst, src.Bounds().Add(image.Pt(60+i*(w/2), 80)), src, image.Point{}, draw.Over)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNotThisMarkInTheListing: a title with a registered word mark is
// blocked; on appeal a reviewer marks the listing's finding "not this
// mark". The same title on other bytes no longer raises the entry, another
// title with the mark still does, and the bank API counts the misfire.
func TestNotThisMarkInTheListing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWith(t, func(b *bundle, o *app.Options) {
		bst, s := zorblaxWords(t, b)
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, listing.New(s).WithCorrections(bst)}
		o.Decider = nil // the live policy: the default pack
	})
	plat, _, err := b.st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		t.Fatal(err)
	}
	reviewer, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleReviewer, "")
	legal, _, _ := b.st.CreateKey(ctx, plat.ID, store.RoleLegal, "")
	submit := func(n int, title string) (api.DesignView, bool) {
		t.Helper()
		r := b.submit(form{file: pngOf(t, n), fields: map[string]string{"markets": "US", "product": "tshirt", "title": title}}, "?wait=15s", nil)
		if r.design.Verdict == nil {
			t.Fatalf("%s: no verdict (%d %+v)", title, r.status, r.err)
		}
		for _, f := range r.design.Findings {
			if f.EntryID == "zorblax" {
				return r.design, true
			}
		}
		return r.design, false
	}
	const wrong = "Zorblax the space cat"
	first, found := submit(60, wrong)
	if !found || first.Verdict.Outcome != "block" {
		t.Fatalf("first upload: %s, zorblax found %v; want a block on the word mark", first.Verdict.Outcome, found)
	}
	it := appealAndClaim(t, b, first.ID, "Zorblax is my cat", reviewer)
	var c review.Correction
	if st, code := b.call("POST", "/v1/review/items/"+itoa(it.ID)+"/corrections", reviewer,
		`{"bank":"acme-marks","entry_id":"zorblax","analyzer":"listing","field":"title","note":"a cat's name"}`, &c); st != 201 || c.Source != "listing" || c.Field != "title" {
		t.Fatalf("not this mark: %d %s %+v", st, code, c)
	}
	tests := []struct {
		name, title string
		n           int
		want        bool
	}{
		{"the same title on other bytes", wrong, 61, false},
		{"another title with the mark", "Zorblax summer tee", 62, true},
	}
	for _, tt := range tests {
		d, found := submit(tt.n, tt.title)
		if found != tt.want {
			t.Errorf("%s: zorblax found %v (%s), want %v", tt.name, found, d.Verdict.Outcome, tt.want)
		}
	}
	var entry struct {
		Misfires int `json:"misfires"`
	}
	if st, code := b.call("GET", "/v1/banks/acme-marks/entries/zorblax", legal, "", &entry); st != 200 || entry.Misfires != 1 {
		t.Fatalf("bank entry: %d %s, misfires %d, want 1", st, code, entry.Misfires)
	}
}

// zorblaxWords creates the acme-marks trademark bank with one entry,
// zorblax (a disc; US, class 25; the word mark "Zorblax"), and opens the
// word screener over the banks.
func zorblaxWords(t *testing.T, b *bundle) (*bank.Store, *words.Screener) {
	t.Helper()
	ctx := context.Background()
	bst := bank.NewStore(b.pool, bank.NATSAnnouncer{Conn: b.nc})
	if _, err := bst.CreateBank(ctx, bank.Bank{Name: "acme-marks", Kind: bank.KindTrademark}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := bank.AddImage(ctx, bst, "acme-marks", bank.AddRequest{Image: discPNG(t), Entry: bank.Entry{ID: "zorblax", Label: "Zorblax",
		Jurisdictions: []string{"US"}, Classes: []int{25}, WordMarks: []string{"Zorblax"}}}, match.Config{}, "test"); err != nil {
		t.Fatal(err)
	}
	s, err := words.Open(ctx, bst, words.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return bst, s
}

// appealAndClaim has the merchant appeal the design's decision with
// message and the reviewer claim the appeal; it returns the claimed item.
func appealAndClaim(t *testing.T, b *bundle, designID, message, reviewerKey string) review.Item {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"message": message})
	if st, code := b.call("POST", "/v1/designs/"+designID+"/appeals", b.key, string(body), nil); st != 201 {
		t.Fatalf("appeal: %d %s", st, code)
	}
	var it review.Item
	if st, code := b.call("POST", "/v1/review/claim", reviewerKey, `{"queue":"appeals"}`, &it); st != 200 || it.DesignID != designID {
		t.Fatalf("claim the appeal: %d %s %+v", st, code, it)
	}
	return it
}
