package app_test

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/workers"
)

// TestAnalyzerResultsReachPolicy is the analyzer → policy contract: each real
// analyzer runs on a real image, its result is stored and read back the way
// backtests and re-decisions read it, and the policy decides on it. A field
// renamed on either side makes this test fail (the policy decodes analyzer
// results strictly, through the analyzers' own types) instead of letting a
// design through.
func TestAnalyzerResultsReachPolicy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: needs ONNX Runtime and the converted NSFW model")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool := pgtest.New(t)
	st := store.New(pool)
	tenant, _, err := st.CreateTenant(ctx, "contract", "")
	if err != nil {
		t.Fatal(err)
	}

	// The real analyzers: hashing, the NSFW model, the seeded symbol bank.
	env, err := modeltest.Open(ctx)
	if err != nil {
		t.Fatalf("model environment: %v", err)
	}
	t.Cleanup(func() { _ = env.Runtime.Close() })
	nsfwA, err := nsfw.New(env.Runtime, nsfw.Config{ModelsDir: env.Install.ModelsDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nsfwA.Close() })
	bst := bank.NewStore(pool, nil)
	if _, err := bank.SeedSymbols(ctx, bst, match.Config{}, "test", nil); err != nil {
		t.Fatal(err)
	}
	set, err := bank.NewSet(bst, bank.SetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Load(ctx); err != nil {
		t.Fatal(err)
	}
	as := []analyzers.Analyzer{hashing.Analyzer{}, nsfwA, banks.New(set, banks.Config{})}

	img := hakenkreuzFlag(t)
	d := &analyzers.Design{TenantID: tenant.ID, Product: "tshirt", Markets: []string{"DE", "US"}, Image: &imaging.Image{NRGBA: img, MediaType: imaging.MediaPNG, Orientation: 1}}
	analyses, findings, versions, err := workers.Analyze(ctx, as, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var direct mustertype.NSFWResult
	for _, a := range analyses {
		if a.Analyzer == mustertype.AnalyzerNSFW {
			if err := json.Unmarshal(a.Result, &direct); err != nil {
				t.Fatal(err)
			}
		}
	}
	if direct.Categories.Drawing == 0 && direct.Probabilities.Neutral == 0 {
		t.Fatalf("nsfw result looks empty: %+v", direct)
	}

	// Store it as the worker does, then read it back as backtests do.
	nd := store.NewDesign{ID: "00000000-0000-4000-8000-00000000c0de", TenantID: tenant.ID, SHA256: strings.Repeat("c", 64), Bytes: 1,
		Width: img.Rect.Dx(), Height: img.Rect.Dy(), MediaType: "image/png", Product: d.Product, Markets: d.Markets}
	if _, _, err := st.InsertDesign(ctx, nd); err != nil {
		t.Fatal(err)
	}
	placeholder, _ := policy.AllowAll{}.Decide(ctx, policy.Input{Markets: d.Markets})
	if _, _, err := st.RecordResult(ctx, nd.ID, analyses, findings, placeholder, versions); err != nil {
		t.Fatal(err)
	}
	stored, err := st.StoredDesigns(ctx, time.Time{}, time.Time{}, "", 10)
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored designs: %v %v", stored, err)
	}
	in := stored[0].Input

	// A policy that reads every analyzer's signals: the default pack's
	// extremist-symbol rule, plus a rule on the NSFW model's drawing score
	// just below what the model gave this image.
	doc, err := policy.DefaultDocument()
	if err != nil {
		t.Fatal(err)
	}
	threshold := direct.Categories.Drawing - 0.0005
	doc.Rules = append(doc.Rules, policy.Rule{Name: "contract-nsfw", Markets: []string{"US"}, When: policy.Condition(
		"nsfw.present && nsfw.categories['drawing'] >= " + jsonNumber(threshold)), Outcome: policy.Review, Code: "contract_nsfw",
		Ground: policy.Ground{Kind: policy.GroundTerms, Ref: "test"}})
	pol, err := policy.Compile(doc, "contract/1", policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := pol.Decide(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	de, _ := dec.Market("DE")
	us, _ := dec.Market("US")
	if de.Outcome != mustertype.Block {
		t.Errorf("DE: %s (%+v), want block: the bank analyzer's symbol finding did not reach the policy", de.Outcome, de.Reasons)
	}
	if !hasCode(us.Reasons, "contract_nsfw") {
		t.Errorf("US reasons %+v: the nsfw analyzer's stored categories did not reach the policy", us.Reasons)
	}

	// A renamed field in a stored result is an error, never a silent zero.
	renamed := strings.Replace(string(in.Analyses[mustertype.AnalyzerNSFW]), `"categories"`, `"category_scores"`, 1)
	in.Analyses[mustertype.AnalyzerNSFW] = json.RawMessage(renamed)
	if _, err := pol.Decide(ctx, in); err == nil {
		t.Error("a renamed nsfw field was accepted: the policy would read zeros and allow")
	}
}

func hasCode(rs []mustertype.Reason, code string) bool {
	for _, r := range rs {
		if r.Code == code {
			return true
		}
	}
	return false
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// hakenkreuzFlag draws the 45° hooked cross in black on a white disc on red.
func hakenkreuzFlag(t *testing.T) *image.NRGBA {
	t.Helper()
	var sym symbols.Symbol
	for _, s := range symbols.All() {
		if s.ID == "hakenkreuz-45" {
			sym = s
		}
	}
	if sym.ID == "" {
		t.Fatal("symbol hakenkreuz-45 missing from the drawn bank")
	}
	c := image.NewNRGBA(image.Rect(0, 0, 1500, 1000))
	draw.Draw(c, c.Rect, image.NewUniform(color.NRGBA{200, 20, 30, 255}), image.Point{}, draw.Src)
	for y := 0; y < 1000; y++ {
		for x := 0; x < 1500; x++ {
			if (x-750)*(x-750)+(y-500)*(y-500) < 330*330 {
				c.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			}
		}
	}
	m := sym.Draw(520)
	for y := 0; y < 520; y++ {
		for x := 0; x < 520; x++ {
			if a := m.NRGBAAt(x, y).A; a > 0 {
				p := c.NRGBAAt(490+x, 240+y)
				f := float64(a) / 255
				mix := func(u uint8) uint8 { return uint8(float64(u)*(1-f) + 10*f) }
				c.SetNRGBA(490+x, 240+y, color.NRGBA{mix(p.R), mix(p.G), mix(p.B), 255})
			}
		}
	}
	return c
}
