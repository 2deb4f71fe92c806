package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/listing"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/mustertype"
)

// TestListingTextDecidesPerMarket runs the listing analyzer in the whole
// pipeline under the live default policy: a banned Nazi greeting in the
// title blocks in DE and goes to review in the US; a registered word mark
// blocks where it is registered and nowhere else; a word mark added to a
// bank reaches the running analyzer over NATS within seconds.
func TestListingTextDecidesPerMarket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var bst *bank.Store
	b := setupWith(t, func(b *bundle, o *app.Options) {
		var s *words.Screener
		bst, s = zorblaxWords(t, b)
		wctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		if err := s.Watch(wctx, b.nc); err != nil {
			t.Fatal(err)
		}
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, listing.New(s)}
		o.Decider = nil // the live policy: the default pack
	})
	decide := func(n int, title, markets string) map[string]mustertype.MarketVerdict {
		t.Helper()
		f := form{file: pngOf(t, n), fields: map[string]string{"markets": markets, "product": "tshirt", "title": title}}
		r := b.submit(f, "?wait=10s", nil)
		if r.design.Verdict == nil {
			t.Fatalf("%q: no verdict (%d %+v)", title, r.status, r.err)
		}
		out := map[string]mustertype.MarketVerdict{}
		for _, m := range r.design.Verdict.Decision.Markets {
			out[m.Market] = m
		}
		return out
	}
	tests := []struct {
		name, title, markets string
		want                 map[string]string // market → outcome
		code                 string            // the reason of the first market listed
	}{
		{"banned greeting", "SIEG HEIL vintage tee", "DE,US", map[string]string{"DE": "block", "US": "review"}, "banned_slogan_illegal"},
		{"greeting spelled with digits", "S1EG HE1L", "AT", map[string]string{"AT": "block"}, "banned_slogan_illegal"},
		{"registered word mark", "Zorblax summer tee", "US,BR", map[string]string{"US": "block", "BR": "allow"}, "trademark_infringement"},
		{"ordinary slogan", "Good vibes only", "DE,US", map[string]string{"DE": "allow", "US": "allow"}, "no_rule_matched"},
	}
	for i, tc := range tests {
		got := decide(20+i, tc.title, tc.markets)
		for m, want := range tc.want {
			if got[m].Outcome != want {
				t.Errorf("%s: %s %s (%+v), want %s", tc.name, m, got[m].Outcome, got[m].Reasons, want)
			}
		}
		first := tc.markets[:2]
		if got[first].Reasons[0].Code != tc.code {
			t.Errorf("%s: %s reason %s, want %s", tc.name, first, got[first].Reasons[0].Code, tc.code)
		}
	}

	// A word mark added to the bank reaches the running analyzer.
	start := time.Now()
	if _, err := bst.SetWordMarks(ctx, "acme-marks", map[string][]string{"zorblax": {"Zorblax", "Quuxbrand"}}, "test"); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		got := decide(40+n, "Quuxbrand", "US")
		if got["US"].Outcome == "block" {
			t.Logf("new word mark found %v after the change", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("a word mark added to the bank was not found within 10 s: %+v", got["US"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// discPNG is a reference image for a bank entry: a dark disc with a notch.
func discPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			dx, dy := x-128, y-128
			if dx*dx+dy*dy < 100*100 && !(x > 128 && y > 100 && y < 150) {
				img.SetNRGBA(x, y, color.NRGBA{20, 20, 20, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
