package match

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// TestInPattern: a region cut from a checker, striped, chevron or dotted
// ground is a piece of a periodic ground; a shape on a plain ground, a
// shape in a third colour on a patterned ground, one cell of a tiling of
// shapes, a barred emblem and a speckled colour are not.
func TestInPattern(t *testing.T) {
	t.Parallel()
	const side = 576
	paint := func(f func(x, y int) uint8) []uint8 {
		l := make([]uint8, side*side)
		for y := range side {
			for x := range side {
				l[y*side+x] = f(x, y)
			}
		}
		return l
	}
	// Resampling leaves the corners of a checker's cells in a mixed colour
	// (label 3), so same-colour cells are separate components.
	checker := func(x, y int) uint8 {
		if (x%40 == 0 || x%40 == 39) && (y%40 == 0 || y%40 == 39) {
			return 3
		}
		return uint8((x/40 + y/40) % 2)
	}
	stripes := func(x, y int) uint8 {
		v := float64(x)*math.Cos(0.5) + float64(y)*math.Sin(0.5)
		if math.Mod(v, 36) < 18 {
			return 1
		}
		return 0
	}
	chevron := func(x, y int) uint8 {
		v := float64(y) + math.Abs(math.Mod(float64(x), 60)-30)
		if math.Mod(v, 60) < 30 {
			return 1
		}
		return 0
	}
	dots := func(x, y int) uint8 {
		cx, cy := (x/32)*32+16, (y/32)*32+16
		if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= 64 {
			return 1
		}
		return 0
	}
	// An F, 60×80, at (x0, y0): asymmetric, not a plain shape.
	isF := func(x, y, x0, y0 int) bool {
		x, y = x-x0, y-y0
		return x >= 0 && y >= 0 && x < 60 && y < 80 && (x < 16 || y < 16 || (y >= 34 && y < 48 && x < 44))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name   string
		labels []uint8
		region image.Rectangle // the region is every component of label want inside it
		label  uint8
		want   bool
	}{
		{"checker: two squares of a 2×2 block", paint(checker), image.Rect(200, 200, 280, 280), 0, true},
		{"checker: a 3×3 block", paint(checker), image.Rect(160, 160, 280, 280), 1, true},
		{"stripes: pieces cut by the window", paint(func(x, y int) uint8 {
			if x >= 150 && x < 400 && y >= 150 && y < 400 {
				return 2 // art over the middle cuts the stripes
			}
			return stripes(x, y)
		}), image.Rect(0, 0, 150, 150), 1, true},
		{"chevron: bands beside art", paint(func(x, y int) uint8 {
			if x >= 200 && x < 420 && y >= 100 && y < 500 {
				return 2
			}
			return chevron(x, y)
		}), image.Rect(0, 380, 200, 576), 1, true},
		{"dots: four dots", paint(dots), image.Rect(256, 256, 320, 320), 1, true},
		{"an F on a plain ground", paint(func(x, y int) uint8 {
			if isF(x, y, 250, 240) {
				return 1
			}
			return 0
		}), image.Rect(240, 230, 320, 330), 1, false},
		{"an F in a third colour on a checker", paint(func(x, y int) uint8 {
			if isF(x, y, 250, 240) {
				return 2
			}
			return checker(x, y)
		}), image.Rect(240, 230, 320, 330), 2, false},
		{"one F of a tiling of Fs", paint(func(x, y int) uint8 {
			if isF(x%84, y%104, 12, 12) {
				return 1
			}
			return 0
		}), image.Rect(252+12, 208+12, 252+12+60, 208+12+80), 1, false},
		{"eight bars, an emblem on a plain ground", paint(func(x, y int) uint8 {
			if x >= 180 && x < 400 && y >= 200 && y < 360 && (y-200)%20 < 12 {
				return 1
			}
			return 0
		}), image.Rect(180, 200, 400, 360), 1, false},
		{"a shape in a speckled colour", paint(func(x, y int) uint8 {
			switch {
			case isF(x, y, 250, 240):
				return 1
			case x >= 244 && x < 316 && y >= 234 && y < 326, rng.IntN(10) == 0:
				return 0 // a moat around the F, and specks
			}
			return 1
		}), image.Rect(240, 230, 320, 330), 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			comps := components(tc.labels, side, side, 255, 0)
			var members []int32
			box := image.Rectangle{}
			for i, c := range comps {
				if c.label == tc.label && c.box.In(tc.region) {
					members = append(members, int32(i))
					box = box.Union(c.box)
				}
			}
			if len(members) == 0 {
				t.Fatal("no component in the region")
			}
			seg := &segmentation{w: side, h: side, labels: tc.labels, comps: comps}
			if got := inPattern(seg, members[0], box); got != tc.want {
				t.Errorf("inPattern (%d members, box %v) = %v, want %v", len(members), box, got, tc.want)
			}
		})
	}
}

// BenchmarkInPattern: one region of a checker ground (the most costly
// case: the region is periodic and every shift is scored).
func BenchmarkInPattern(b *testing.B) {
	const side = 576
	l := make([]uint8, side*side)
	for y := range side {
		for x := range side {
			switch {
			case (x%40 == 0 || x%40 == 39) && (y%40 == 0 || y%40 == 39):
				l[y*side+x] = 3
			default:
				l[y*side+x] = uint8((x/40 + y/40) % 2)
			}
		}
	}
	comps := components(l, side, side, 255, 0)
	seg := &segmentation{w: side, h: side, labels: l, comps: comps}
	var member int32 = -1
	box := image.Rectangle{}
	for i, c := range comps {
		if c.label == 1 && c.box.In(image.Rect(160, 160, 280, 280)) {
			member, box = int32(i), box.Union(c.box)
		}
	}
	for b.Loop() {
		inPattern(seg, member, box)
	}
}

// TestEnclosesArt: a filled outline whose inside is the ground (plain or
// two-tone, as around it) is a silhouette; one that encloses parts of its
// own colour (lines in a speech bubble) or mostly a colour not around it
// (a face in a frame) frames art.
func TestEnclosesArt(t *testing.T) {
	t.Parallel()
	const side = 400
	ring := func(x, y int) bool {
		d := math.Hypot(float64(x-200), float64(y-200))
		return d >= 100 && d < 112
	}
	inDisc := func(x, y int) bool { return math.Hypot(float64(x-200), float64(y-200)) < 100 }
	cases := []struct {
		name  string
		paint func(x, y int) uint8 // label per pixel; the ring is label 1
		want  bool
	}{
		{"outline on a plain ground", func(x, y int) uint8 { return 0 }, false},
		{"outline on a two-tone ground", func(x, y int) uint8 { return uint8(2 * ((x / 30) % 2)) }, false},
		{"lines of its colour inside", func(x, y int) uint8 {
			if inDisc(x, y) && x > 140 && x < 260 && (y > 170 && y < 182 || y > 210 && y < 222) {
				return 1
			}
			return 0
		}, true},
		{"a face of another colour inside", func(x, y int) uint8 {
			if inDisc(x, y) {
				return 3
			}
			return 0
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := make([]uint8, side*side)
			for y := range side {
				for x := range side {
					l[y*side+x] = tc.paint(x, y)
					if ring(x, y) {
						l[y*side+x] = 1
					}
				}
			}
			comps := components(l, side, side, 255, 0)
			seg := &segmentation{w: side, h: side, labels: l, comps: comps}
			for i := range comps {
				c := &comps[i]
				if c.label != 1 || c.area < 1000 {
					continue
				}
				// The ring filled: the region a logo drawn as an outline is.
				mk := NewMask(c.box.Dx(), c.box.Dy())
				for y := range mk.H {
					for x := range mk.W {
						if px, py := c.box.Min.X+x, c.box.Min.Y+y; ring(px, py) || inDisc(px, py) {
							mk.Pix[y*mk.W+x] = 255
						}
					}
				}
				if got := enclosesArt(seg, mk, c.box, 1, int32(i)); got != tc.want {
					t.Errorf("filled: enclosesArt = %v, want %v", got, tc.want)
				}
				return
			}
			t.Fatal("no ring component")
		})
	}
}
