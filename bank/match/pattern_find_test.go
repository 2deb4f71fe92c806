package match_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
)

// Pattern grounds as the benign and logo evaluations paint them.
func checkerGround(cell int, a, b color.NRGBA) func(x, y int) color.NRGBA {
	return func(x, y int) color.NRGBA {
		if (x/cell+y/cell)%2 == 0 {
			return a
		}
		return b
	}
}

func stripeGround(period, angle float64, a, b color.NRGBA) func(x, y int) color.NRGBA {
	dx, dy := math.Cos(angle), math.Sin(angle)
	return func(x, y int) color.NRGBA {
		if math.Mod(math.Abs(float64(x)*dx+float64(y)*dy), period) < period/2 {
			return a
		}
		return b
	}
}

func chevronGround(period float64, a, b color.NRGBA) func(x, y int) color.NRGBA {
	return func(x, y int) color.NRGBA {
		v := float64(y) + math.Abs(math.Mod(float64(x), period)-period/2)
		if math.Mod(v, period) < period/2 {
			return a
		}
		return b
	}
}

// TestPatternGroundsAreNotLogos: checker, striped and chevron grounds hold
// windows shaped like logos made of plain shapes in a row (Delicious is
// two squares of a 2×2 checker block; issue 15's harmless designs were
// held for Delicious, Runkeeper, Common Workflow Language and Opera on
// such grounds). A ground alone reports nothing (match-10, inPattern); a
// logo drawn on the ground, in its own colour, is still found — Delicious
// too.
func TestPatternGroundsAreNotLogos(t *testing.T) {
	t.Parallel()
	set, err := iconify.Load("testdata/patterns")
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	icons := map[string]iconify.Icon{}
	for _, ic := range set.Icons {
		img, err := iconify.Render(ic, 192, color.NRGBA{A: 255})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add(ic.Name, match.MaskFromAlpha(img), 0); err != nil {
			t.Fatal(err)
		}
		icons[ic.Name] = ic
	}
	yellow, navy := color.NRGBA{230, 200, 60, 255}, color.NRGBA{40, 60, 120, 255}
	white, black := color.NRGBA{255, 255, 255, 255}, color.NRGBA{0, 0, 0, 255}
	red := color.NRGBA{200, 30, 30, 255}
	cases := []struct {
		name   string
		ground func(x, y int) color.NRGBA
		logo   string // drawn on the ground in red at 40 % of the side, turned 8°
	}{
		{"checker 60 px", checkerGround(60, yellow, navy), "opera"},
		{"checker 100 px", checkerGround(100, white, black), "delicious"},
		{"checker 150 px", checkerGround(150, yellow, navy), "commonworkflowlanguage"},
		{"stripes 50 px", stripeGround(50, 0.3, white, navy), "delicious"},
		{"stripes 120 px", stripeGround(120, 1.2, yellow, black), "coreboot"},
		{"stripes 90 px, upright", stripeGround(90, math.Pi/2, white, black), "runkeeper"},
		{"chevron 80 px", chevronGround(80, yellow, navy), "opera"},
		{"chevron 160 px", chevronGround(160, white, black), "commonworkflowlanguage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ground := canvas(1200, 1200, tc.ground)
			got, _, err := m.Find(context.Background(), ground)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range got {
				t.Errorf("ground alone: found %s (score %.3f) at %v", f.Key, f.Score, f.Box)
			}

			logo, err := iconify.RenderRotated(icons[tc.logo], 480, red, 8)
			if err != nil {
				t.Fatal(err)
			}
			at := image.Pt(360, 300)
			draw.Draw(ground, logo.Rect.Add(at), logo, image.Point{}, draw.Over)
			truth := alphaBox(logo).Add(at)
			got, _, err = m.Find(context.Background(), ground)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range got {
				if f.Key == tc.logo && f.Box.Overlaps(truth) {
					found = true
					continue
				}
				t.Errorf("with %s: also found %s (score %.3f) at %v", tc.logo, f.Key, f.Score, f.Box)
			}
			if !found {
				t.Errorf("with %s on the ground: not found (found %+v)", tc.logo, got)
			}
		})
	}
}
