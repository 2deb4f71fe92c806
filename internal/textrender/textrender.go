// Package textrender draws text designs the way merchants make them —
// straight, rotated or arched lines in any TrueType/OpenType font, filled,
// outlined or distressed, dark on light or light on dark — for the OCR
// tests and the text evaluation (eval/text). It is a test harness, not
// production code.
package textrender

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// FontDirs are searched by Fonts.
var fontDirs = []string{"/usr/share/fonts/truetype", "/usr/share/fonts/opentype"}

// Fonts lists the TrueType/OpenType files installed on the machine
// (Debian's fonts-* packages), sorted.
func Fonts() []string {
	var out []string
	for _, d := range fontDirs {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				switch filepath.Ext(p) {
				case ".ttf", ".otf":
					out = append(out, p)
				}
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// DefaultFont is DejaVu Sans Bold (fonts-dejavu-core), the font tests use.
const DefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

var (
	cacheMu sync.Mutex
	cache   = map[string]*opentype.Font{}
)

// Font loads (and caches) a font file.
func Font(path string) (*opentype.Font, error) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if f, ok := cache[path]; ok {
		return f, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("font: %w (install Debian's fonts-dejavu-core)", err)
	}
	f, err := opentype.Parse(b)
	if err != nil {
		coll, cerr := opentype.ParseCollection(b)
		if cerr != nil || coll.NumFonts() == 0 {
			return nil, fmt.Errorf("font %s: %w", path, err)
		}
		if f, err = coll.Font(0); err != nil {
			return nil, err
		}
	}
	cache[path] = f
	return f, nil
}

// Line is one line of text to draw.
type Line struct {
	Text string
	Font string  // font file
	Size float64 // pixel height of the em
	// Centre is where the line's centre goes (canvas pixels).
	CX, CY float64
	// Angle rotates the line (degrees, clockwise).
	Angle float64
	// Arc bends the line along a circle of this radius (pixels); positive
	// bends it over the top (a rainbow), negative under (a smile); 0 is
	// straight.
	Arc float64
	// Colour of the letters.
	Colour color.NRGBA
	// Outline, if > 0, draws the letters as an outline of this width
	// (pixels) in Colour, filled with Fill (transparent Fill: hollow).
	Outline float64
	Fill    color.NRGBA
	// Distress removes this fraction (0..0.5) of the ink in blotches.
	Distress float64
	// Tracking adds space between letters (fraction of Size).
	Tracking float64
}

// Design is a canvas with a background and lines.
type Design struct {
	W, H       int
	Background color.NRGBA // alpha 0 for a transparent design
	// Noise adds a textured background (0..1 amplitude).
	Noise float64
	Lines []Line
	Seed  uint64
}

// Render draws the design.
func Render(d Design) (*image.NRGBA, error) {
	img := image.NewNRGBA(image.Rect(0, 0, d.W, d.H))
	rng := rand.New(rand.NewPCG(d.Seed, 0x7e77))
	for i := 0; i < len(img.Pix); i += 4 {
		c := d.Background
		if d.Noise > 0 && c.A > 0 {
			n := (rng.Float64() - 0.5) * 2 * d.Noise * 60
			c.R, c.G, c.B = clamp8(float64(c.R)+n), clamp8(float64(c.G)+n), clamp8(float64(c.B)+n)
		}
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	for _, l := range d.Lines {
		if err := drawLine(img, l, rng); err != nil {
			return nil, err
		}
	}
	return img, nil
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// glyph is one rendered letter: its coverage, advance and where its
// baseline origin is inside the mask.
type glyph struct {
	mask    *image.Alpha
	ox, oy  int // baseline origin in mask pixels
	advance float64
}

func renderGlyphs(l Line) ([]glyph, float64, float64, error) {
	f, err := Font(l.Font)
	if err != nil {
		return nil, 0, 0, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: l.Size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, 0, 0, err
	}
	defer face.Close()
	m := face.Metrics()
	asc, desc := float64(m.Ascent)/64, float64(m.Descent)/64
	pad := int(math.Ceil(l.Outline)) + 2
	var out []glyph
	for _, r := range l.Text {
		adv, ok := face.GlyphAdvance(r)
		if !ok {
			adv, _ = face.GlyphAdvance('?')
		}
		w := int(math.Ceil(float64(adv)/64)) + 2*pad + int(l.Size/2)
		h := int(math.Ceil(asc+desc)) + 2*pad
		mask := image.NewAlpha(image.Rect(0, 0, w, h))
		dr := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(pad, pad+int(math.Round(asc)))}
		dr.DrawString(string(r))
		out = append(out, glyph{mask: mask, ox: pad, oy: pad + int(math.Round(asc)), advance: float64(adv)/64 + l.Tracking*l.Size})
	}
	return out, asc, desc, nil
}

// drawLine places each glyph along the line (straight, rotated or on an
// arc) into a coverage layer, styles it and composites it.
func drawLine(img *image.NRGBA, l Line, rng *rand.Rand) error {
	gs, asc, desc, err := renderGlyphs(l)
	if err != nil {
		return err
	}
	total := 0.0
	for _, g := range gs {
		total += g.advance
	}
	W, H := img.Rect.Dx(), img.Rect.Dy()
	cov := make([]float32, W*H)
	mid := (asc - desc) / 2 // baseline offset that centres the letters vertically
	theta := l.Angle * math.Pi / 180
	x := -total / 2
	for _, g := range gs {
		cx := x + g.advance/2 // glyph centre along the line
		var px, py, rot float64
		if l.Arc == 0 {
			px, py, rot = cx, mid, 0
		} else {
			R := l.Arc
			phi := cx / R // angle subtended
			// Baseline point on a circle whose top (R>0) passes through the centre.
			px = R * math.Sin(phi)
			py = mid + R*(1-math.Cos(phi))
			rot = phi
		}
		// Rotate the whole line by theta around the line centre.
		gx := px*math.Cos(theta) - py*math.Sin(theta)
		gy := px*math.Sin(theta) + py*math.Cos(theta)
		placeGlyph(cov, W, H, g, l.CX+gx, l.CY+gy, rot+theta, g.advance/2)
		x += g.advance
	}
	styled := cov
	if l.Outline > 0 {
		styled = outline(cov, W, H, l.Outline)
	}
	if l.Distress > 0 {
		distress(styled, W, H, l.Distress, l.Size, rng)
	}
	for i, a := range styled {
		if a <= 0 && (l.Outline == 0 || cov[i] <= 0) {
			continue
		}
		p := img.Pix[4*i : 4*i+4]
		if l.Outline > 0 && l.Fill.A > 0 && cov[i] > 0 {
			blend(p, l.Fill, cov[i])
		}
		if a > 0 {
			blend(p, l.Colour, a)
		}
	}
	return nil
}

// placeGlyph draws g's coverage with its baseline origin shifted so that
// the point (advance/2, 0) of the glyph lands at (x, y), rotated by rot.
func placeGlyph(cov []float32, W, H int, g glyph, x, y, rot, half float64) {
	c, s := math.Cos(rot), math.Sin(rot)
	b := g.mask.Rect
	// Forward-map the mask's corners to bound the work.
	corners := [][2]float64{{0, 0}, {float64(b.Dx()), 0}, {0, float64(b.Dy())}, {float64(b.Dx()), float64(b.Dy())}}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range corners {
		u, v := p[0]-float64(g.ox)-half, p[1]-float64(g.oy)
		X, Y := x+u*c-v*s, y+u*s+v*c
		x0, y0, x1, y1 = math.Min(x0, X), math.Min(y0, Y), math.Max(x1, X), math.Max(y1, Y)
	}
	for py := max(0, int(y0)-1); py < min(H, int(y1)+2); py++ {
		for px := max(0, int(x0)-1); px < min(W, int(x1)+2); px++ {
			dx, dy := float64(px)+0.5-x, float64(py)+0.5-y
			u, v := dx*c+dy*s, -dx*s+dy*c
			mx, my := u+float64(g.ox)+half-0.5, v+float64(g.oy)-0.5
			a := sampleAlpha(g.mask, mx, my)
			if a > 0 {
				i := py*W + px
				cov[i] = float32(math.Min(1, float64(cov[i])+a))
			}
		}
	}
}

func sampleAlpha(m *image.Alpha, x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	at := func(ix, iy int) float64 {
		if ix < 0 || iy < 0 || ix >= m.Rect.Dx() || iy >= m.Rect.Dy() {
			return 0
		}
		return float64(m.Pix[iy*m.Stride+ix]) / 255
	}
	ix, iy := int(x0), int(y0)
	return (at(ix, iy)*(1-fx)+at(ix+1, iy)*fx)*(1-fy) + (at(ix, iy+1)*(1-fx)+at(ix+1, iy+1)*fx)*fy
}

// outline keeps the ring of width w around the letters' edge.
func outline(cov []float32, W, H int, w float64) []float32 {
	r := max(1, int(math.Round(w)))
	dil := append([]float32(nil), cov...)
	ero := append([]float32(nil), cov...)
	for k := 0; k < r; k++ {
		dil = morph(dil, W, H, true)
		if k < r/2+1 {
			ero = morph(ero, W, H, false)
		}
	}
	out := make([]float32, len(cov))
	for i := range out {
		out[i] = float32(math.Max(0, float64(dil[i]-ero[i])))
	}
	return out
}

func morph(in []float32, W, H int, grow bool) []float32 {
	out := make([]float32, len(in))
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			v := in[y*W+x]
			for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				n := float32(0)
				if nx >= 0 && ny >= 0 && nx < W && ny < H {
					n = in[ny*W+nx]
				}
				if grow {
					v = max(v, n)
				} else {
					v = min(v, n)
				}
			}
			out[y*W+x] = v
		}
	}
	return out
}

// distress punches blotches (discs of 3–12 % of the letter size) out of
// the ink until about frac of it is gone, plus fine speckle.
func distress(cov []float32, W, H int, frac, size float64, rng *rand.Rand) {
	var ink []int
	total := 0.0
	for i, a := range cov {
		if a > 0.5 {
			ink = append(ink, i)
			total++
		}
	}
	if len(ink) == 0 {
		return
	}
	removed := 0.0
	for tries := 0; removed < frac*total && tries < 5000; tries++ {
		c := ink[rng.IntN(len(ink))]
		cx, cy := c%W, c/W
		r := size * (0.03 + 0.09*rng.Float64())
		ri := int(math.Ceil(r))
		for y := max(0, cy-ri); y < min(H, cy+ri+1); y++ {
			for x := max(0, cx-ri); x < min(W, cx+ri+1); x++ {
				if float64((x-cx)*(x-cx)+(y-cy)*(y-cy)) <= r*r {
					if cov[y*W+x] > 0.5 {
						removed++
					}
					cov[y*W+x] = 0
				}
			}
		}
	}
	for _, i := range ink {
		if rng.Float64() < frac/4 {
			cov[i] = 0
		}
	}
}

func blend(p []uint8, c color.NRGBA, a float32) {
	a *= float32(c.A) / 255
	if a <= 0 {
		return
	}
	da := float32(p[3]) / 255
	oa := a + da*(1-a)
	for k, v := range []uint8{c.R, c.G, c.B} {
		p[k] = uint8((float32(v)*a + float32(p[k])*da*(1-a)) / oa)
	}
	p[3] = uint8(oa * 255)
}

// Measure returns the advance width of text in the font at size (pixels),
// and whether the font has a glyph for every rune.
func Measure(fontPath, text string, size float64) (float64, bool, error) {
	f, err := Font(fontPath)
	if err != nil {
		return 0, false, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return 0, false, err
	}
	defer face.Close()
	all := true
	var w fixed.Int26_6
	for _, r := range text {
		if r == ' ' {
			a, _ := face.GlyphAdvance(r)
			w += a
			continue
		}
		var buf sfnt.Buffer
		idx, err := f.GlyphIndex(&buf, r)
		if err != nil || idx == 0 {
			all = false
		}
		a, ok := face.GlyphAdvance(r)
		if !ok {
			all = false
		}
		w += a
	}
	return float64(w) / 64, all, nil
}
