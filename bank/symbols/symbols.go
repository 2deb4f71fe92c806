// Package symbols draws Muster's default symbol bank (hate, extremist and
// totalitarian symbols, and the religious forms a policy must tell apart
// from them) in vector geometry: nothing is downloaded. Each symbol carries
// the form data a per-country policy needs (orientation, tilt, context,
// religious) and notes.
package symbols

import (
	"image"
	"image/color"
	"math"

	"github.com/srwiley/rasterx"
)

// Bank is the name of the default symbol bank.
const Bank = "symbols"

// Canonical symbol kinds (mustertype.Attrs.Symbol).
const (
	KindSwastika       = "swastika"
	KindSSRunes        = "ss_runes"
	KindSonnenrad      = "sonnenrad"
	KindCelticCross    = "celtic_cross"
	KindHammerSickle   = "hammer_sickle"
	KindRedStar        = "red_star"
	KindZSymbol        = "z_symbol"
	KindStGeorgeRibbon = "st_george_ribbon"
)

// Orientations of a swastika's arms, read as the direction the hooked arms
// point when going round: 卐 (right-facing, the Nazi Hakenkreuz when tilted
// 45°) is clockwise, 卍 (left-facing) is counterclockwise.
const (
	Clockwise        = "clockwise"
	Counterclockwise = "counterclockwise"
)

// Form is what a policy needs to tell one use of a symbol from another.
type Form struct {
	Orientation string  `json:"orientation"` // Clockwise, Counterclockwise or ""
	TiltDeg     float64 `json:"tilt_deg"`    // rotation from upright, degrees
	Context     string  `json:"context"`     // "disc", "flag", "none"
	Religious   bool    `json:"religious"`   // drawn in a religious form (dots in the quadrants)
}

// Symbol is one entry of the default symbol bank.
type Symbol struct {
	ID    string // stable entry id
	Label string
	Kind  string
	Form  Form
	Notes string
	// draw paints the shape in black on a transparent size×size canvas.
	draw func(f *rasterx.Filler, s float64)
}

// Draw renders the symbol as a black shape on a transparent size×size canvas.
func (s Symbol) Draw(size int) *image.NRGBA {
	rgba := image.NewRGBA(image.Rect(0, 0, size, size))
	scanner := rasterx.NewScannerGV(size, size, rgba, rgba.Bounds())
	f := rasterx.NewFiller(size, size, scanner)
	f.SetColor(color.Black)
	s.draw(f, float64(size))
	out := image.NewNRGBA(rgba.Rect)
	for i := 0; i < len(rgba.Pix); i += 4 {
		out.Pix[i+3] = rgba.Pix[i+3] // black: colour channels stay 0
	}
	return out
}

// All returns the default symbol bank, in a fixed order.
func All() []Symbol {
	return []Symbol{
		{ID: "hakenkreuz-45", Label: "Hakenkreuz (45°)", Kind: KindSwastika,
			Form:  Form{Orientation: Clockwise, TiltDeg: 45, Context: "none"},
			Notes: "Nazi Hakenkreuz, right-facing arms turned 45°; banned in DE (StGB §86a), AT, and others; see jurisdictions.md.",
			draw:  func(f *rasterx.Filler, s float64) { swastika(f, s, 45, true, false) }},
		{ID: "hakenkreuz-upright", Label: "Hakenkreuz (upright)", Kind: KindSwastika,
			Form:  Form{Orientation: Clockwise, TiltDeg: 0, Context: "none"},
			Notes: "Right-facing swastika with heavy arms, upright; as a Nazi emblem or confusingly similar to it.",
			draw:  func(f *rasterx.Filler, s float64) { swastika(f, s, 0, true, false) }},
		{ID: "swastika-religious-left", Label: "Religious swastika 卍 (left-facing)", Kind: KindSwastika,
			Form:  Form{Orientation: Counterclockwise, TiltDeg: 0, Context: "none", Religious: true},
			Notes: "Buddhist/Hindu/Jain 卍, upright with dots in the quadrants; explicit religious exemptions in AU-NSW s 93ZA(2) and others.",
			draw:  func(f *rasterx.Filler, s float64) { swastika(f, s, 0, false, true) }},
		{ID: "swastika-religious-right", Label: "Religious swastika 卐 (right-facing)", Kind: KindSwastika,
			Form:  Form{Orientation: Clockwise, TiltDeg: 0, Context: "none", Religious: true},
			Notes: "Hindu/Jain 卐, upright with dots in the quadrants; allowed in e.g. IN, review in DE (no statutory exemption).",
			draw:  func(f *rasterx.Filler, s float64) { swastika(f, s, 0, true, true) }},
		{ID: "ss-runes", Label: "SS sig runes", Kind: KindSSRunes, Form: Form{Context: "none"},
			Notes: "Double sig rune of the SS; banned in DE, AT, AU (double-sig rune), LT.",
			draw:  ssRunes},
		{ID: "sonnenrad", Label: "Sonnenrad (Black Sun)", Kind: KindSonnenrad, Form: Form{Context: "none"},
			Notes: "Twelve sig-rune spokes round a disc, used by neo-Nazis.",
			draw:  sonnenrad},
		{ID: "celtic-cross", Label: "Celtic cross (white-supremacist form)", Kind: KindCelticCross, Form: Form{Context: "none"},
			Notes: "Square cross whose arms cross a ring (\"Odin's cross\"), used by white supremacists; the Christian high cross has a long shaft.",
			draw:  celticCross},
		{ID: "hammer-sickle", Label: "Hammer and sickle", Kind: KindHammerSickle, Form: Form{Context: "none"},
			Notes: "Communist emblem; restricted in UA, LT, HU, ID and others; PL status unsure.",
			draw:  hammerSickle},
		{ID: "red-star", Label: "Red star", Kind: KindRedStar, Form: Form{Context: "none"},
			Notes: "Five-pointed star; a shape match says nothing about colour or use — red star restrictions (HU, LT, UA) need the colour and context.",
			draw:  func(f *rasterx.Filler, s float64) { star(f, s) }},
		{ID: "z-symbol", Label: "\"Z\" war symbol", Kind: KindZSymbol, Form: Form{Context: "none"},
			Notes: "Latin Z used in support of Russia's war of aggression; restricted in DE (§140 context), UA, LT, LV, MD, EE. Also an ordinary letter: context decides.",
			draw:  zSymbol},
		{ID: "st-george-ribbon", Label: "St George ribbon", Kind: KindStGeorgeRibbon, Form: Form{Context: "none"},
			Notes: "Looped ribbon of three dark and two orange stripes; banned in LT, MD, UA. The shape is the dark stripes of the loop.",
			draw:  stGeorgeRibbon},
	}
}

// poly adds a closed polygon in unit coordinates (0..1) scaled by s.
func poly(f *rasterx.Filler, s float64, pts ...[2]float64) {
	f.Start(rasterx.ToFixedP(pts[0][0]*s, pts[0][1]*s))
	for _, p := range pts[1:] {
		f.Line(rasterx.ToFixedP(p[0]*s, p[1]*s))
	}
	f.Stop(true)
}

func rotate(p [2]float64, deg float64) [2]float64 {
	r := deg * math.Pi / 180
	c, sn := math.Cos(r), math.Sin(r)
	x, y := p[0]-0.5, p[1]-0.5
	// screen coordinates (y down): positive angles turn clockwise on screen
	return [2]float64{0.5 + c*x - sn*y, 0.5 + sn*x + c*y}
}

// rect adds the rectangle (x0,y0)-(x1,y1) turned by deg about the centre.
func rect(f *rasterx.Filler, s, x0, y0, x1, y1, deg float64) {
	pts := [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	for i := range pts {
		pts[i] = rotate(pts[i], deg)
	}
	poly(f, s, pts...)
	f.Draw()
	f.Clear()
}

// ring adds the annulus between radii r0 < r1 as one path: the outer circle
// one way and the inner circle the other (a hole under non-zero winding).
func ring(f *rasterx.Filler, s, cx, cy, r0, r1 float64) {
	const n = 96
	f.Start(rasterx.ToFixedP((cx+r1)*s, cy*s))
	for i := 1; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		f.Line(rasterx.ToFixedP((cx+r1*math.Cos(a))*s, (cy+r1*math.Sin(a))*s))
	}
	f.Stop(true)
	f.Start(rasterx.ToFixedP((cx+r0)*s, cy*s))
	for i := 1; i <= n; i++ {
		a := -2 * math.Pi * float64(i) / n
		f.Line(rasterx.ToFixedP((cx+r0*math.Cos(a))*s, (cy+r0*math.Sin(a))*s))
	}
	f.Stop(true)
	f.Draw()
	f.Clear()
}

func disc(f *rasterx.Filler, s, cx, cy, r float64) {
	rasterx.AddCircle(cx*s, cy*s, r*s, f)
	f.Draw()
	f.Clear()
}

// swastika draws a swastika on a 5×5 grid inside a margin; clockwise gives
// 卐 (the top arm hooks to the right), otherwise 卍.
func swastika(f *rasterx.Filler, s, tilt float64, clockwise, dots bool) {
	m := 0.12
	if tilt != 0 {
		m = 0.2 // room for the corners when turned
	}
	u := (1 - 2*m) / 5 // grid unit
	g := func(i float64) float64 { return m + i*u }
	bars := [][4]float64{
		{g(2), g(0), g(3), g(5)}, // vertical bar
		{g(0), g(2), g(5), g(3)}, // horizontal bar
	}
	if clockwise {
		bars = append(bars,
			[4]float64{g(2), g(0), g(5), g(1)}, // top arm → right
			[4]float64{g(4), g(2), g(5), g(5)}, // right arm → down
			[4]float64{g(0), g(4), g(3), g(5)}, // bottom arm → left
			[4]float64{g(0), g(0), g(1), g(3)}, // left arm → up
		)
	} else {
		bars = append(bars,
			[4]float64{g(0), g(0), g(3), g(1)}, // top arm → left
			[4]float64{g(4), g(0), g(5), g(3)}, // right arm → up
			[4]float64{g(2), g(4), g(5), g(5)}, // bottom arm → right
			[4]float64{g(0), g(2), g(1), g(5)}, // left arm → down
		)
	}
	for _, b := range bars {
		rect(f, s, b[0], b[1], b[2], b[3], tilt)
	}
	if dots {
		for _, c := range [][2]float64{{1.5, 1.5}, {3.5, 1.5}, {1.5, 3.5}, {3.5, 3.5}} {
			// the free cells of the quadrants get a dot each
			p := rotate([2]float64{g(c[0]), g(c[1])}, tilt)
			disc(f, s, p[0], p[1], u*0.38)
		}
	}
}

// thickLine adds a quadrilateral of width w along (x0,y0)-(x1,y1).
func thickLine(f *rasterx.Filler, s, x0, y0, x1, y1, w float64) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	nx, ny := -dy/l*w/2, dx/l*w/2
	poly(f, s, [2]float64{x0 + nx, y0 + ny}, [2]float64{x1 + nx, y1 + ny}, [2]float64{x1 - nx, y1 - ny}, [2]float64{x0 - nx, y0 - ny})
	f.Draw()
	f.Clear()
}

// sigRune draws one sig rune (ᛋ) as an angular bolt in the box x0..x0+w.
func sigRune(f *rasterx.Filler, s, x0, w float64) {
	// A parallelogram bolt: down-left stroke, step right, down-left stroke.
	poly(f, s,
		[2]float64{x0 + 0.62*w, 0.06}, [2]float64{x0 + 1.0*w, 0.06},
		[2]float64{x0 + 0.52*w, 0.47}, [2]float64{x0 + 0.92*w, 0.47},
		[2]float64{x0 + 0.38*w, 0.94}, [2]float64{x0 + 0.0*w, 0.94},
		[2]float64{x0 + 0.48*w, 0.55}, [2]float64{x0 + 0.08*w, 0.55},
	)
	f.Draw()
	f.Clear()
}

func ssRunes(f *rasterx.Filler, s float64) {
	sigRune(f, s, 0.08, 0.38)
	sigRune(f, s, 0.54, 0.38)
}

func sonnenrad(f *rasterx.Filler, s float64) {
	disc(f, s, 0.5, 0.5, 0.1)
	ring(f, s, 0.5, 0.5, 0.42, 0.47)
	for i := 0; i < 12; i++ {
		a := float64(i) * 30
		// each spoke: out from the disc, then bent by 30° (a sig-rune bend)
		p0 := rotate([2]float64{0.5, 0.5 - 0.08}, a)
		p1 := rotate([2]float64{0.5, 0.5 - 0.27}, a)
		p2 := rotate(rotate([2]float64{0.5, 0.5 - 0.44}, 0), a+18)
		thickLine(f, s, p0[0], p0[1], p1[0], p1[1], 0.05)
		thickLine(f, s, p1[0], p1[1], p2[0], p2[1], 0.05)
	}
}

func celticCross(f *rasterx.Filler, s float64) {
	ring(f, s, 0.5, 0.5, 0.27, 0.36)
	rect(f, s, 0.43, 0.05, 0.57, 0.95, 0)
	rect(f, s, 0.05, 0.43, 0.95, 0.57, 0)
}

func hammerSickle(f *rasterx.Filler, s float64) {
	// Sickle: a crescent blade (outer arc out, inner arc back) with a handle.
	var pts [][2]float64
	for a := 140.0; a <= 400; a += 10 {
		r := a * math.Pi / 180
		pts = append(pts, [2]float64{0.47 + 0.36*math.Cos(r), 0.45 + 0.36*math.Sin(r)})
	}
	for a := 400.0; a >= 140; a -= 10 {
		r := a * math.Pi / 180
		pts = append(pts, [2]float64{0.50 + 0.29*math.Cos(r), 0.41 + 0.29*math.Sin(r)})
	}
	poly(f, s, pts...)
	f.Draw()
	f.Clear()
	thickLine(f, s, 0.22, 0.72, 0.10, 0.90, 0.09)
	// Hammer: handle from bottom-right to the centre, head across its top.
	thickLine(f, s, 0.80, 0.88, 0.38, 0.46, 0.08)
	thickLine(f, s, 0.22, 0.50, 0.48, 0.24, 0.14)
}

func star(f *rasterx.Filler, s float64) {
	var pts [][2]float64
	for i := 0; i < 10; i++ {
		r := 0.47
		if i%2 == 1 {
			r = 0.19
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts = append(pts, [2]float64{0.5 + r*math.Cos(a), 0.53 + r*math.Sin(a)})
	}
	poly(f, s, pts...)
	f.Draw()
	f.Clear()
}

func zSymbol(f *rasterx.Filler, s float64) {
	poly(f, s,
		[2]float64{0.15, 0.1}, [2]float64{0.85, 0.1}, [2]float64{0.85, 0.26},
		[2]float64{0.40, 0.74}, [2]float64{0.85, 0.74}, [2]float64{0.85, 0.9},
		[2]float64{0.15, 0.9}, [2]float64{0.15, 0.74}, [2]float64{0.60, 0.26},
		[2]float64{0.15, 0.26},
	)
	f.Draw()
	f.Clear()
}

func stGeorgeRibbon(f *rasterx.Filler, s float64) {
	// A looped ribbon: two tails crossing below a loop. Three dark stripes
	// run along each leg (the orange ones are the gaps between them).
	leg := func(x0, y0, x1, y1 float64) {
		dx, dy := x1-x0, y1-y0
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l, dx/l
		for k := -1; k <= 1; k++ {
			o := float64(k) * 0.06
			thickLine(f, s, x0+nx*o, y0+ny*o, x1+nx*o, y1+ny*o, 0.035)
		}
	}
	leg(0.30, 0.10, 0.70, 0.92) // left-top to right-bottom
	leg(0.70, 0.10, 0.30, 0.92)
	leg(0.30, 0.10, 0.70, 0.10)
}
