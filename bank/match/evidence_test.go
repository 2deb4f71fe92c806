package match_test

import (
	"context"
	"image"
	"image/color"
	"testing"

	"github.com/muster-dev/muster/bank/match"
)

// TestCountersShowTheGround: a mark's counters show the ground it lies on
// (or what lies behind it); a shape whose counters hold art of colours
// not around it frames that art — an emoji's hair round a face, a speech
// bubble round its lines (match-11, lacksEvidence). The Opera O with a
// face painted in its counter is a frame, not the logo; the same O on a
// plain or gradient ground, or over a photo that shows through its
// counter, is found. With Config.NoEvidence the frame is reported, so the
// rule is what drops it.
func TestCountersShowTheGround(t *testing.T) {
	t.Parallel()
	newMatcher := func(noEvidence bool) *match.Matcher {
		m, err := match.New(match.Config{NoEvidence: noEvidence})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add("bubble", bubbleMask(256), 0); err != nil {
			t.Fatal(err)
		}
		return m
	}
	withRule, without := newMatcher(false), newMatcher(true)
	red := color.NRGBA{200, 30, 30, 255}
	white := color.NRGBA{255, 255, 255, 255}
	skin, eye := color.NRGBA{240, 200, 150, 255}, color.NRGBA{30, 30, 90, 255}
	disc := func(c *image.NRGBA, x0, y0, rx, ry int, col color.NRGBA) {
		for y := y0 - ry; y <= y0+ry; y++ {
			for x := x0 - rx; x <= x0+rx; x++ {
				dx, dy := float64(x-x0)/float64(rx), float64(y-y0)/float64(ry)
				if dx*dx+dy*dy <= 1 {
					c.SetNRGBA(x, y, col)
				}
			}
		}
	}
	const side, x0, y0 = 500, 300, 350
	cases := []struct {
		name   string
		ground func(x, y int) color.NRGBA
		art    bool // a face in the counter
		want   bool // reported (with the rule)
	}{
		{"on white", solid(white), false, true},
		{"on a gradient", gradient, false, true},
		{"a face in its counter", solid(white), true, false},
		{"a face in its counter, on a gradient", gradient, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := canvas(1200, 1200, tc.ground)
			mk := bubbleMask(side)
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					if mk.Pix[y*side+x] >= 128 {
						c.SetNRGBA(x0+x, y0+y, red)
					}
				}
			}
			truth := image.Rect(x0, y0, x0+side, y0+side)
			if tc.art {
				// A face in the counter: skin, eyes and a mouth, none of
				// them colours of the ground.
				cx, cy := x0+side/2, y0+side/2
				disc(c, cx, cy, side/5, side/7, skin)
				disc(c, cx-side/8, cy-side/15, side/25, side/30, eye)
				disc(c, cx+side/8, cy-side/15, side/25, side/30, eye)
				disc(c, cx, cy+side/14, side/10, side/60, eye)
			}
			found := func(m *match.Matcher) bool {
				got, _, err := m.Find(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range got {
					if f.Key == "bubble" && f.Box.Overlaps(truth) {
						return true
					}
				}
				return false
			}
			if got := found(withRule); got != tc.want {
				t.Errorf("reported %v, want %v", got, tc.want)
			}
			if !found(without) {
				t.Errorf("not reported without the evidence rules: the shape does not verify, the case tests nothing")
			}
		})
	}
}

// bubbleMask draws a side×side mark: an elliptic disc with a
// rectangular counter (0.9 × 0.6 of the half-sides), mirror-symmetric
// both ways, so a simple reference (no relief) that is no plain ring.
func bubbleMask(side int) match.Mask {
	mk := match.NewMask(side, side)
	s := float64(side)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			u, v := (float64(x)+0.5)/s*2-1, (float64(y)+0.5)/s*2-1 // -1..1
			if u*u+(v/0.8)*(v/0.8) <= 0.81 && !(u > -0.45 && u < 0.45 && v > -0.3 && v < 0.3) {
				mk.Pix[y*side+x] = 255
			}
		}
	}
	return mk
}
