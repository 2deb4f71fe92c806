package bank

import (
	"testing"

	"github.com/muster-dev/muster/bank/match"
)

func TestGlyphsForTheNegativeBank(t *testing.T) {
	t.Parallel()
	gs, err := Glyphs(RenderSize)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(glyphFonts) * len(glyphRunes); len(gs) < want*9/10 {
		t.Fatalf("%d glyphs, want about %d", len(gs), want)
	}
	seen := map[string]bool{}
	for _, g := range gs {
		if seen[g.Key] {
			t.Fatalf("duplicate glyph %s", g.Key)
		}
		seen[g.Key] = true
		if b := match.MaskFromAlpha(g.Img).Bounds(128); b.Dx() < 4 && b.Dy() < 4 {
			t.Errorf("%s: no ink (%v)", g.Key, b)
		}
	}
	for _, k := range []string{"glyph:goregular:B", "glyph:gobold:S", "glyph:gomono:7"} {
		if !seen[k] {
			t.Errorf("missing %s", k)
		}
	}
}
