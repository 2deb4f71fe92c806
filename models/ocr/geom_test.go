package ocr

import (
	"image"
	"math"
	"testing"
)

func TestMinAreaRect(t *testing.T) {
	t.Parallel()
	rot := func(ps []pt, deg float64) []pt {
		a := deg * math.Pi / 180
		out := make([]pt, len(ps))
		for i, p := range ps {
			out[i] = pt{p.X*math.Cos(a) - p.Y*math.Sin(a) + 100, p.X*math.Sin(a) + p.Y*math.Cos(a) + 100}
		}
		return out
	}
	var rect []pt
	for x := 0.0; x <= 80; x += 4 {
		for y := 0.0; y <= 20; y += 4 {
			rect = append(rect, pt{x, y})
		}
	}
	for _, deg := range []float64{0, 17, 45, 90, 133} {
		r := minAreaRect(rot(rect, deg))
		long, short := math.Max(r.W, r.H), math.Min(r.W, r.H)
		if math.Abs(long-80) > 1e-6 || math.Abs(short-20) > 1e-6 {
			t.Errorf("%v°: %v×%v, want 80×20", deg, long, short)
		}
	}
}

// TestCurvedRegionFollowsArc: a band along a circular arc gives a centre
// line on the arc and the band's thickness, not its bounding box's.
func TestCurvedRegionFollowsArc(t *testing.T) {
	t.Parallel()
	const w, h = 400, 300
	prob := make([]float32, w*h)
	cx, cy, R, thick := 200.0, 320.0, 220.0, 24.0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			ang := math.Atan2(float64(x)-cx, cy-float64(y)) * 180 / math.Pi
			if math.Abs(d-R) <= thick/2 && math.Abs(ang) <= 50 {
				prob[y*w+x] = 0.9
			}
		}
	}
	regs := dbRegions(prob, w, h, dbParams{defaultBinThresh, defaultBoxThresh, defaultUnclipRatio}, 1, 1, image.Point{})
	if len(regs) != 1 || !regs[0].curved {
		t.Fatalf("regions %+v, want one curved", regs)
	}
	r := regs[0]
	for i, p := range r.line[1 : len(r.line)-1] {
		if d := math.Hypot(p.X-cx, p.Y-cy); math.Abs(d-R) > 4 {
			t.Errorf("centre point %d %v is %.1f from the centre, want %.0f±4", i, p, d, R)
		}
	}
	if r.half < thick/2 || r.half > thick*1.6 {
		t.Errorf("half height %.1f for a %.0f px band", r.half, thick)
	}
	if r.line[0].X > r.line[len(r.line)-1].X {
		t.Errorf("line runs right to left: %v", r.line)
	}
}

func TestChainPieces(t *testing.T) {
	t.Parallel()
	p := func(x0, y0, x1, y1 float64, text string) piece {
		return piece{r: region{line: []pt{{x0, y0}, {x1, y1}}, half: 20}, d: decoded{text: text, score: 0.9}}
	}
	// Three words down a smile-shaped arc, given out of order, and a
	// second line far below.
	ps := []piece{p(250, 120, 330, 100, "RIDE"), p(50, 100, 130, 120, "BORN"), p(150, 125, 230, 125, "TO"), p(50, 300, 300, 300, "since 1990")}
	var got []string
	for _, c := range chainPieces(ps) {
		got = append(got, makeLine(c).Text)
	}
	want := map[string]bool{"BORN TO RIDE": true, "since 1990": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Errorf("lines %q, want BORN TO RIDE and since 1990", got)
	}
}

// TestThickArcIsFollowed: a short word on a tight arc is a thick band
// that fills most of its box (fill ≥ 0.6); it is followed as an arc when
// its centre line turns, and a straight band of the same size, level or
// rotated, stays a straight box.
func TestThickArcIsFollowed(t *testing.T) {
	t.Parallel()
	const w, h = 400, 300
	// band draws the sector of the annulus around (cx, cy) between radii
	// r0 and r1 and within ±span° of straight up (or down when below).
	band := func(cx, cy, r0, r1, span float64) []float32 {
		prob := make([]float32, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				ang := math.Atan2(float64(x)-cx, math.Abs(cy-float64(y))) * 180 / math.Pi
				if d >= r0 && d <= r1 && math.Abs(ang) <= span {
					prob[y*w+x] = 0.9
				}
			}
		}
		return prob
	}
	bar := func(deg float64) []float32 {
		prob := make([]float32, w*h)
		a := deg * math.Pi / 180
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dx, dy := float64(x)-200, float64(y)-150
				u, v := dx*math.Cos(a)+dy*math.Sin(a), -dx*math.Sin(a)+dy*math.Cos(a)
				if math.Abs(u) <= 110 && math.Abs(v) <= 30 {
					prob[y*w+x] = 0.9
				}
			}
		}
		return prob
	}
	tests := []struct {
		name   string
		prob   []float32
		curved bool
	}{
		// A smile: the band under the circle's centre, 35° each way.
		{"thick smile", band(200, 20, 150, 230, 35), true},
		// A rainbow: the band over the circle's centre.
		{"thick rainbow", band(200, 280, 150, 230, 35), true},
		{"straight bar", bar(0), false},
		{"rotated bar", bar(25), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			regs := dbRegions(tc.prob, w, h, dbParams{defaultBinThresh, defaultBoxThresh, defaultUnclipRatio}, 1, 1, image.Point{})
			if len(regs) != 1 {
				t.Fatalf("%d regions, want 1", len(regs))
			}
			if regs[0].curved != tc.curved {
				t.Errorf("curved %v, want %v (line %v)", regs[0].curved, tc.curved, regs[0].line)
			}
		})
	}
}
