package match

import (
	"context"
	"image"
	"image/color"
	"testing"
)

// teardrop draws a side×side filled speech bubble: a disc with a pointed
// tail at the lower left (a simple reference: no relief).
func teardrop(side int) Mask {
	mk := NewMask(side, side)
	s := float64(side)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			u, v := (float64(x)+0.5)/s*2-1, (float64(y)+0.5)/s*2-1
			disc := (u-0.1)*(u-0.1)+(v+0.1)*(v+0.1) <= 0.8*0.8
			tail := u <= -0.1 && v >= -0.1 && u >= -0.9 && v <= 0.9 && -u+v <= 1.6
			if disc || tail {
				mk.Pix[y*side+x] = 255
			}
		}
	}
	return mk
}

// checkRulesDecide finds a bank of one simple reference (ref) on img with
// the evidence rules, expecting want, and with NoEvidence, expecting it
// found (else the case tests nothing). It fails the test when ref is not
// simple (the rules judge simple references only).
func checkRulesDecide(t *testing.T, ref Mask, img *image.NRGBA, want bool) {
	t.Helper()
	find := func(noEvidence bool) bool {
		m, err := New(Config{NoEvidence: noEvidence})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add("ref", ref, 0); err != nil {
			t.Fatal(err)
		}
		if info := m.refs["ref"].info; info >= reliefFrom {
			t.Fatalf("the reference has outline information %.0f: not a simple reference, the case tests nothing", info)
		}
		got, _, err := m.Find(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range got {
			if f.Key == "ref" {
				return true
			}
		}
		return false
	}
	if got := find(false); got != want {
		t.Errorf("reported %v, want %v", got, want)
	}
	if !find(true) {
		t.Errorf("not reported without the evidence rules: the reference does not verify, the case tests nothing")
	}
}

// TestHolesHoldingHostPartsFrameArt: a simple mark found as the holes of
// a component (a mark knocked out of a fill, a sticker border's inside)
// is the ground seen through; a speech bubble drawn as an outline with
// dots or lines of its own colour inside holds art (dev seeds 101, 102:
// braintrust, a filled teardrop, at 1.000 on two such Phosphor bubbles).
// With the dots the bubble is not reported; without them it is; with
// NoEvidence it is reported either way.
func TestHolesHoldingHostPartsFrameArt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dots bool
		want bool
	}{
		{"an outlined bubble, ground inside", false, true},
		{"an outlined bubble with two dots of its colour inside", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const side, x0, y0, stroke = 400, 400, 300, 24
			img := image.NewNRGBA(image.Rect(0, 0, 1200, 1200))
			for y := 0; y < 1200; y++ {
				for x := 0; x < 1200; x++ {
					img.SetNRGBA(x, y, color.NRGBA{uint8(40 + x/8), uint8(60 + y/10), 180, 255})
				}
			}
			in := teardrop(side)
			red := color.NRGBA{200, 30, 30, 255}
			at := func(x, y int) bool {
				return x >= 0 && y >= 0 && x < side && y < side && in.Pix[y*side+x] >= 128
			}
			// The outline: pixels outside the bubble within stroke of it.
			for y := -stroke; y < side+stroke; y++ {
				for x := -stroke; x < side+stroke; x++ {
					if at(x, y) {
						continue
					}
					near := false
					for dy := -stroke; dy <= stroke && !near; dy += 3 {
						for dx := -stroke; dx <= stroke; dx += 3 {
							if dx*dx+dy*dy <= stroke*stroke && at(x+dx, y+dy) {
								near = true
								break
							}
						}
					}
					if near {
						img.SetNRGBA(x0+x, y0+y, red)
					}
				}
			}
			if tc.dots {
				for _, cx := range []int{side*2/5 + 20, side*3/5 + 20} {
					for y := -25; y <= 25; y++ {
						for x := -25; x <= 25; x++ {
							if x*x+y*y <= 625 {
								img.SetNRGBA(x0+cx+x, y0+side*2/5+y, red)
							}
						}
					}
				}
			}
			checkRulesDecide(t, teardrop(256), img, tc.want)
		})
	}
}

// TestLacksEvidence: the rules of lacksEvidence one by one, on measured
// evidence: simple references only, counters full of art, small regions
// below smallScore, a negative shape at the threshold; distinctive
// references and NoEvidence are never judged.
func TestLacksEvidence(t *testing.T) {
	t.Parallel()
	simple, distinctive := &reference{info: 72}, &reference{info: 300}
	plain := regionEvidence{rel: 0.4}
	framed := regionEvidence{rel: 0.4, counterShare: 0.5, counterArt: 0.7}
	fewArt := regionEvidence{rel: 0.4, counterShare: 0.5, counterArt: 0.3}
	smallCounters := regionEvidence{rel: 0.4, counterShare: 0.05, counterArt: 0.9}
	small := regionEvidence{rel: 0.1}
	for _, tc := range []struct {
		name       string
		ref        *reference
		ev         regionEvidence
		edgeF, neg float64
		noEvidence bool
		want       string
	}{
		{"simple, plain region", simple, plain, 1, 0.5, false, ""},
		{"simple, counters full of art", simple, framed, 1, 0.5, false, lackCounters},
		{"simple, counters of the ground", simple, fewArt, 1, 0.5, false, ""},
		{"simple, small counters of art", simple, smallCounters, 1, 0.5, false, ""},
		{"simple, small region at 0.98", simple, small, 0.98, 0.5, false, lackSmall},
		{"simple, small region at 0.995", simple, small, 0.995, 0.5, false, ""},
		{"simple, a negative shape at the threshold", simple, plain, 1, 0.97, false, lackNegative},
		{"simple, a negative shape below it", simple, plain, 1, 0.96, false, ""},
		{"distinctive, everything against it", distinctive, regionEvidence{rel: 0.1, counterShare: 0.5, counterArt: 0.9}, 0.98, 1, false, ""},
		{"NoEvidence", simple, framed, 1, 1, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(Config{NoEvidence: tc.noEvidence})
			if err != nil {
				t.Fatal(err)
			}
			c := &candidate{ev: tc.ev, evDone: true}
			if got := m.lacksEvidence(c, tc.ref, tc.edgeF, func() float64 { return tc.neg }); got != tc.want {
				t.Errorf("lacksEvidence = %q, want %q", got, tc.want)
			}
		})
	}
}
