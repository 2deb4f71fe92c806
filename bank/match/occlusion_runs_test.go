package match

import (
	"image"
	"testing"
)

// occluder is a rectangle painted over a label grid with a colour label.
type occluder struct {
	r   image.Rectangle
	lab uint8
}

// discGrid is a w×w colour-label image: ground 0, a disc of label 1
// (radius 20 about (30, 30)), then the occluders painted in order.
func discGrid(w int, occ ...occluder) []uint8 {
	g := make([]uint8, w*w)
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			if inDisc(x, y) {
				g[y*w+x] = 1
			}
		}
	}
	for _, o := range occ {
		for y := o.r.Min.Y; y < o.r.Max.Y; y++ {
			for x := o.r.Min.X; x < o.r.Max.X; x++ {
				g[y*w+x] = o.lab
			}
		}
	}
	return g
}

func inDisc(x, y int) bool { dx, dy := x-30, y-30; return dx*dx+dy*dy < 20*20 }

// regionOf is the mask of label lab's pixels inside box.
func regionOf(g []uint8, W int, box image.Rectangle, lab uint8) Mask {
	m := NewMask(box.Dx(), box.Dy())
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if g[y*W+x] == lab {
				m.Pix[(y-box.Min.Y)*m.W+x-box.Min.X] = 255
			}
		}
	}
	return m
}

// differs counts the pixels where a and b disagree.
func differs(a, b Mask) int {
	n := 0
	for i := range a.Pix {
		if (a.Pix[i] != 0) != (b.Pix[i] != 0) {
			n++
		}
	}
	return n
}

func TestCompleteRuns(t *testing.T) {
	t.Parallel()
	const W = 60
	box := image.Rect(10, 10, 50, 50)
	disc := NewMask(40, 40)
	for y := 0; y < 40; y++ {
		for x := 0; x < 40; x++ {
			if inDisc(x+10, y+10) {
				disc.Pix[y*40+x] = 255
			}
		}
	}
	tests := []struct {
		name    string
		grid    []uint8
		counter image.Rectangle // pixels of label 1 that are not the region (a glyph's counter)
		want    bool            // completed to the disc (else: nothing to complete)
	}{
		// A line of text crosses the disc's left edge and ends inside:
		// the bite at the edge is open to the left (match-8's
		// row-and-column rule left it); its columns have the disc above
		// and below.
		{name: "band across the edge", grid: discGrid(W, occluder{image.Rect(0, 25, 40, 32), 2}), want: true},
		// Glyph-like blocks with gaps, across both edges.
		{name: "blocks across both edges", grid: discGrid(W, occluder{image.Rect(4, 22, 16, 30), 2}, occluder{image.Rect(20, 22, 32, 30), 2}, occluder{image.Rect(36, 22, 58, 30), 2}), want: true},
		// Art inside a counter lies on the ground, not on the region: it
		// is not filled (match-8 filled it: enclosed both ways).
		{name: "art in a counter", grid: discGrid(W, occluder{image.Rect(20, 20, 40, 40), 0}, occluder{image.Rect(25, 25, 35, 35), 2})},
		// The counter of a glyph over the region is of the region's
		// colour and enclosed: seen, not filled.
		{name: "glyph with a counter", grid: discGrid(W, occluder{image.Rect(0, 24, 30, 34), 2}, occluder{image.Rect(20, 27, 24, 31), 1}), counter: image.Rect(20, 27, 24, 31), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mk := regionOf(tc.grid, W, box, 1)
			for y := tc.counter.Min.Y; y < tc.counter.Max.Y; y++ {
				for x := tc.counter.Min.X; x < tc.counter.Max.X; x++ {
					mk.Pix[(y-box.Min.Y)*mk.W+x-box.Min.X] = 0
				}
			}
			out, hidden, ok := completeRuns(mk, box, tc.grid, W, 1)
			if !tc.want {
				if ok {
					t.Fatalf("completed %d pixels, want none", differs(out, mk))
				}
				return
			}
			if !ok {
				t.Fatal("not completed")
			}
			// Every pixel of the disc is seen, filled, or hidden; nothing
			// outside it is filled; the counter is seen.
			lost, extra := 0, 0
			for i := range disc.Pix {
				switch {
				case disc.Pix[i] != 0 && out.Pix[i] == 0 && hidden.Pix[i] == 0:
					lost++
				case disc.Pix[i] == 0 && out.Pix[i] != 0:
					extra++
				}
			}
			if lost > 0 || extra > 0 {
				t.Errorf("%d pixels of the disc neither seen nor hidden, %d filled outside it", lost, extra)
			}
			if !tc.counter.Empty() {
				p := tc.counter.Min.Sub(box.Min)
				if i := p.Y*out.W + p.X; out.Pix[i] == 0 || hidden.Pix[i] != 0 {
					t.Errorf("the glyph's counter is not seen as the region's")
				}
			}
		})
	}
}

func TestFillParity(t *testing.T) {
	t.Parallel()
	// rings draws square outlines (2 px strokes) of the given rectangles
	// into a 60×40 mask.
	rings := func(rs ...image.Rectangle) Mask {
		m := NewMask(60, 40)
		for _, r := range rs {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if x < r.Min.X+2 || x >= r.Max.X-2 || y < r.Min.Y+2 || y >= r.Max.Y-2 {
						m.Pix[y*60+x] = 255
					}
				}
			}
		}
		return m
	}
	solid := func(in func(x, y int) bool) Mask {
		m := NewMask(60, 40)
		for y := 0; y < 40; y++ {
			for x := 0; x < 60; x++ {
				if in(x, y) {
					m.Pix[y*60+x] = 255
				}
			}
		}
		return m
	}
	inR := func(r image.Rectangle, x, y int) bool { return image.Pt(x, y).In(r) }
	a, b := image.Rect(0, 0, 36, 40), image.Rect(40, 5, 60, 35)
	counter := image.Rect(10, 10, 26, 30)
	tests := []struct {
		name string
		mk   Mask
		want Mask
		ok   bool
	}{
		// A part with a counter: the counter's ring lies inside the
		// part's; what is between them is the logo, the counter is not.
		{name: "counter", mk: rings(a, counter), ok: true, want: solid(func(x, y int) bool {
			return inR(a, x, y) && !inR(counter.Inset(2), x, y)
		})},
		// Two parts, each its own ring, filled together.
		{name: "two parts", mk: rings(a, b), ok: true, want: solid(func(x, y int) bool { return inR(a, x, y) || inR(b, x, y) })},
		// Strokes that enclose nothing.
		{name: "open strokes", mk: solid(func(x, y int) bool { return x == 5 || y == 7 }), ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := fillParity(tc.mk)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok {
				if d := differs(got, tc.want); d != 0 {
					t.Errorf("filled silhouette differs in %d pixels", d)
				}
			}
		})
	}
}
