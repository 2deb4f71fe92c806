package app_test

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	ocranalyzer "github.com/muster-dev/muster/analyzers/ocr"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/internal/textrender"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/ocr"
	"github.com/muster-dev/muster/mustertype"
)

var (
	ocrOnce sync.Once
	ocrEng  *ocr.Engine
	ocrErr  error
)

// ocrEngine opens the real OCR models once for the package's tests.
func ocrEngine(t *testing.T) *ocr.Engine {
	t.Helper()
	ocrOnce.Do(func() {
		ctx := context.Background()
		env, err := modeltest.Open(ctx)
		if err != nil {
			ocrErr = err
			return
		}
		cache := npmfetch.DefaultCacheDir(os.Getenv)
		if !filepath.IsAbs(cache) {
			cache = filepath.Join(env.Root, cache)
		}
		dir := filepath.Join(env.Root, models.DefaultModelsDir)
		if _, err := ocr.Install(ctx, cache, dir); err != nil {
			ocrErr = err
			return
		}
		ocrEng, ocrErr = ocr.Open(env.Runtime, ocr.Config{ModelsDir: dir})
	})
	if ocrErr != nil {
		t.Fatalf("ocr models: %v", ocrErr)
	}
	return ocrEng
}

// textPNG renders a design with one line of text.
func textPNG(t *testing.T, text string, arc float64, bg, fg color.NRGBA) []byte {
	t.Helper()
	img, err := textrender.Render(textrender.Design{W: 900, H: 700, Background: bg, Lines: []textrender.Line{{
		Text: text, Font: textrender.DefaultFont, Size: 90, CX: 450, CY: 300, Arc: arc, Colour: fg}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImageTextDecidesPerMarket runs the ocr analyzer in the whole
// pipeline under the live default policy: a banned Nazi greeting printed
// in an arc blocks in DE and goes to review in the US; a word mark printed
// on the design blocks where it is registered and nowhere else, with a
// finding from field "image" boxed where it was read; an ordinary slogan
// is allowed.
func TestImageTextDecidesPerMarket(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs the OCR models (not in -short)")
	}
	eng := ocrEngine(t)
	b := setupWith(t, func(b *bundle, o *app.Options) {
		_, s := zorblaxWords(t, b)
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, ocranalyzer.New(eng, s, "")}
		o.Decider = nil // the live policy: the default pack
	})
	white, black := color.NRGBA{250, 250, 250, 255}, color.NRGBA{20, 20, 20, 255}
	tests := []struct {
		name    string
		png     []byte
		markets string
		want    map[string]string
		code    string
		entry   string // a finding of this entry from field "image"
	}{
		{"banned greeting, arched", textPNG(t, "SIEG HEIL", 380, white, black), "DE,US", map[string]string{"DE": "block", "US": "review"}, "banned_slogan_illegal", ""},
		{"word mark, light on dark", textPNG(t, "ZORBLAX", 0, color.NRGBA{10, 30, 70, 255}, color.NRGBA{250, 220, 90, 255}), "US,BR", map[string]string{"US": "block", "BR": "allow"}, "trademark_infringement", "zorblax"},
		{"ordinary slogan", textPNG(t, "GOOD VIBES ONLY", 0, white, black), "DE,US", map[string]string{"DE": "allow", "US": "allow"}, "no_rule_matched", ""},
	}
	for _, tc := range tests {
		r := b.submit(form{file: tc.png, fields: map[string]string{"markets": tc.markets, "product": "tshirt"}}, "?wait=20s", nil)
		r = b.settled(r, 3*time.Minute)
		if r.design.Verdict == nil {
			t.Fatalf("%s: no verdict (%d %+v)", tc.name, r.status, r.err)
		}
		got := map[string]mustertype.MarketVerdict{}
		for _, m := range r.design.Verdict.Decision.Markets {
			got[m.Market] = m
		}
		for m, want := range tc.want {
			if got[m].Outcome != want {
				t.Errorf("%s: %s %s (%+v), want %s", tc.name, m, got[m].Outcome, got[m].Reasons, want)
			}
		}
		first := tc.markets[:2]
		if len(got[first].Reasons) == 0 || got[first].Reasons[0].Code != tc.code {
			t.Errorf("%s: %s reasons %+v, want %s", tc.name, first, got[first].Reasons, tc.code)
		}
		if tc.entry != "" {
			found := false
			for _, f := range r.design.Findings {
				if f.EntryID == tc.entry && f.Attrs.Field == ocranalyzer.Field && f.Attrs.Match == "text" && f.Box != nil && f.Box.W > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no finding of %s from the image with a box: %+v", tc.name, tc.entry, r.design.Findings)
			}
		}
	}
}

// TestOCRWithoutModelHoldsForReview: an ocr analyzer whose models could
// not be loaded reports an incomplete finding, and the policy holds the
// design for review in every market whatever it shows.
func TestOCRWithoutModelHoldsForReview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWith(t, func(b *bundle, o *app.Options) {
		s, err := words.Open(ctx, bank.NewStore(b.pool, nil), words.Config{})
		if err != nil {
			t.Fatal(err)
		}
		o.Analyzers = []analyzers.Analyzer{hashing.Analyzer{}, ocranalyzer.New(nil, s, "ocr model not installed")}
		o.Decider = nil
	})
	r := b.submit(form{file: pngOf(t, 7), fields: map[string]string{"markets": "DE,US", "product": "tshirt"}}, "?wait=10s", nil)
	if r.design.Verdict == nil {
		t.Fatalf("no verdict (%d %+v)", r.status, r.err)
	}
	for _, m := range r.design.Verdict.Decision.Markets {
		if m.Outcome != "review" || m.Reasons[0].Code != "analysis_incomplete" {
			t.Errorf("%s: %s %+v, want review (analysis_incomplete)", m.Market, m.Outcome, m.Reasons)
		}
	}
}
