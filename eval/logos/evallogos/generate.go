// Package evallogos generates the labelled logo-detection set of issue 3 the
// way merchants make designs, and measures a detector on it: recall (the
// right entry found) on designs that carry a bank logo and the share of
// brand-free designs flagged, per scale band and per background, and the
// time per design.
package evallogos

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/muster-dev/muster/bank/iconify"
)

// DefaultFont is the DejaVu font from Debian's fonts-dejavu package.
const DefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

// Config sets what is generated. The zero value means the defaults.
type Config struct {
	Positives   int    // designs with a bank logo (and as many without); default 150
	Seed        uint64 // default 1
	Width       int    // canvas, default 1200
	Height      int    // default 1200
	LargeWidth  int    // one design in LargeEvery is this size; default 4500
	LargeHeight int    // default 5400
	LargeEvery  int    // default 10
	FontPath    string // default DefaultFont
}

// WithDefaults returns c with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Positives == 0 {
		c.Positives = 150
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Width == 0 {
		c.Width, c.Height = 1200, 1200
	}
	if c.LargeWidth == 0 {
		c.LargeWidth, c.LargeHeight = 4500, 5400
	}
	if c.LargeEvery == 0 {
		c.LargeEvery = 10
	}
	if c.FontPath == "" {
		c.FontPath = DefaultFont
	}
	return c
}

// Backgrounds.
const (
	BgTransparent = "transparent"
	BgSolid       = "solid"
	BgGradient    = "gradient"
	BgNoise       = "noise"
)

// Backgrounds lists the background kinds in report order.
var Backgrounds = []string{BgTransparent, BgSolid, BgGradient, BgNoise}

// Sample is one generated design with its label.
type Sample struct {
	Index       int
	Positive    bool
	Slug        string          // the bank logo placed (positives)
	Box         image.Rectangle // where it was placed, canvas pixels
	Scale       float64         // logo's longer side / canvas shorter side
	Angle       float64
	Background  string
	Format      string // image/png or image/jpeg
	Quality     int
	Width       int
	Height      int
	Distractors []string
	Text        string
	Data        []byte // encoded file
}

// Generator makes samples; Sample(i) is deterministic for a given seed.
type Generator struct {
	cfg         Config
	brands      *iconify.Set
	distractors []iconify.Icon
	face        *opentype.Font
}

// NewGenerator prepares a generator from the brand set and the distractor sets.
func NewGenerator(cfg Config, brands *iconify.Set, distractors ...*iconify.Set) (*Generator, error) {
	cfg = cfg.WithDefaults()
	fb, err := os.ReadFile(cfg.FontPath)
	if err != nil {
		return nil, fmt.Errorf("evallogos: font (install Debian fonts-dejavu): %w", err)
	}
	f, err := opentype.Parse(fb)
	if err != nil {
		return nil, fmt.Errorf("evallogos: font: %w", err)
	}
	g := &Generator{cfg: cfg, brands: brands, face: f}
	for _, s := range distractors {
		for _, ic := range s.Icons {
			if !IsBrandFree(ic.Name) || IsCalibration(s.Prefix, ic.Name) {
				continue
			}
			g.distractors = append(g.distractors, ic)
		}
	}
	if len(brands.Icons) == 0 || len(g.distractors) == 0 {
		return nil, fmt.Errorf("evallogos: need brands and distractors")
	}
	return g, nil
}

// IsBrandFree reports whether a distractor icon name is safe to use as
// brand-free art: tabler's brand-* icons are brand logos, and the currency
// and crypto coin icons draw marks such as the Bitcoin logo.
func IsBrandFree(name string) bool {
	for _, p := range []string{"brand-", "currency-", "coin-bitcoin", "bitcoin"} {
		if strings.HasPrefix(name, p) || strings.Contains(name, "bitcoin") {
			return false
		}
	}
	return true
}

// IsCalibration reports whether a distractor icon belongs to the
// calibration half of the distractor sets (a fixed split by FNV-1a hash of
// "prefix:name"). The calibration half may be used to build the negative
// bank; the generator draws brand-free art only from the other half, so the
// evaluation never sees a shape the negative bank was built from.
func IsCalibration(prefix, name string) bool {
	h := fnv.New32a()
	h.Write([]byte(prefix + ":" + name))
	return h.Sum32()%2 == 0
}

// Len is the number of samples (positives then as many negatives).
func (g *Generator) Len() int { return 2 * g.cfg.Positives }

var words = strings.Fields(`summer vibes good times only coffee lover best dad ever
weekend mode adventure awaits stay wild keep calm team bride happy camper
born to ride mountain life beach please hello world level up game over
family reunion class of 2025 just do it later dream big hustle hard love
wins ocean soul night owl plant mom dog person`)

// Sample generates design i.
func (g *Generator) Sample(i int) (Sample, error) {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)))
	s := Sample{Index: i, Positive: i < g.cfg.Positives}
	s.Width, s.Height = g.cfg.Width, g.cfg.Height
	if i%g.cfg.LargeEvery == g.cfg.LargeEvery-1 {
		s.Width, s.Height = g.cfg.LargeWidth, g.cfg.LargeHeight
	}
	s.Background = Backgrounds[rng.IntN(len(Backgrounds))]
	canvas := image.NewNRGBA(image.Rect(0, 0, s.Width, s.Height))
	bgA, bgB := randColour(rng), randColour(rng)
	paintBackground(canvas, s.Background, bgA, bgB, rng)
	short := min(s.Width, s.Height)

	// The main art: a bank logo (positives) or a non-brand icon (negatives),
	// 20–70% of the canvas.
	s.Scale = 0.2 + 0.5*rng.Float64()
	if rng.IntN(2) == 0 {
		s.Angle = -10 + 20*rng.Float64()
	}
	var main iconify.Icon
	if s.Positive {
		main = g.brands.Icons[rng.IntN(len(g.brands.Icons))]
		s.Slug = main.Name
	} else {
		main = g.distractors[rng.IntN(len(g.distractors))]
		s.Distractors = append(s.Distractors, main.Name)
	}
	size := int(s.Scale * float64(short))
	col := contrastColour(rng, canvas, s.Background, bgA, bgB)
	art, err := iconify.RenderRotated(main, size, col, s.Angle)
	if err != nil {
		return s, err
	}
	x := rng.IntN(max(1, s.Width-art.Rect.Dx()))
	y := rng.IntN(max(1, s.Height-art.Rect.Dy()))
	draw.Draw(canvas, art.Rect.Add(image.Pt(x, y)), art, image.Point{}, draw.Over)
	s.Box = alphaBounds(art).Add(image.Pt(x, y))
	taken := []image.Rectangle{s.Box}

	// 0–2 distractor icons beside it.
	for range rng.IntN(3) {
		ic := g.distractors[rng.IntN(len(g.distractors))]
		dsz := int((0.1 + 0.2*rng.Float64()) * float64(short))
		img, err := iconify.RenderRotated(ic, dsz, contrastColour(rng, canvas, s.Background, bgA, bgB), 0)
		if err != nil {
			continue
		}
		if p, ok := place(rng, img.Rect.Size(), canvas.Rect, taken); ok {
			r := img.Rect.Add(p)
			draw.Draw(canvas, r, img, image.Point{}, draw.Over)
			taken = append(taken, r)
			s.Distractors = append(s.Distractors, ic.Name)
		}
	}

	// A line of text.
	n := 2 + rng.IntN(3)
	start := rng.IntN(len(words) - n)
	s.Text = strings.Join(words[start:start+n], " ")
	if rng.IntN(2) == 0 {
		s.Text = strings.ToUpper(s.Text)
	}
	px := (0.04 + 0.05*rng.Float64()) * float64(short)
	face, err := opentype.NewFace(g.face, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err == nil {
		d := &font.Drawer{Dst: canvas, Src: image.NewUniform(contrastColour(rng, canvas, s.Background, bgA, bgB)), Face: face}
		adv := d.MeasureString(s.Text).Ceil()
		tsz := image.Pt(adv, int(px*1.3))
		if p, ok := place(rng, tsz, canvas.Rect, taken); ok {
			d.Dot = fixed.P(p.X, p.Y+int(px))
			d.DrawString(s.Text)
		}
		face.Close()
	}

	// Encode: transparent designs stay PNG; others PNG or JPEG q70–95.
	var buf bytes.Buffer
	if s.Background == BgTransparent || rng.IntN(2) == 0 {
		s.Format = "image/png"
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, canvas); err != nil {
			return s, err
		}
	} else {
		s.Format = "image/jpeg"
		s.Quality = 70 + rng.IntN(26)
		if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: s.Quality}); err != nil {
			return s, err
		}
	}
	s.Data = buf.Bytes()
	return s, nil
}

func randColour(rng *rand.Rand) color.NRGBA {
	return color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

func lum(c color.NRGBA) float64 {
	return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
}

func colourDist(a, b color.NRGBA) float64 {
	dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
	return math.Sqrt(dr*dr + dg*dg + db*db)
}

// contrastColour picks a random colour a designer could use on this
// background: at least a modest colour distance from the background's
// colours (a merchant does not print an invisible logo).
func contrastColour(rng *rand.Rand, _ *image.NRGBA, bg string, a, b color.NRGBA) color.NRGBA {
	for range 200 {
		c := randColour(rng)
		if bg == BgTransparent {
			return c
		}
		ok := colourDist(c, a) >= 90 && math.Abs(lum(c)-lum(a)) >= 35
		if bg != BgSolid {
			ok = ok && colourDist(c, b) >= 90 && math.Abs(lum(c)-lum(b)) >= 35
			// and away from the colours in between
			mid := color.NRGBA{uint8((int(a.R) + int(b.R)) / 2), uint8((int(a.G) + int(b.G)) / 2), uint8((int(a.B) + int(b.B)) / 2), 255}
			ok = ok && colourDist(c, mid) >= 90
		}
		if ok {
			return c
		}
	}
	if lum(a) > 128 {
		return color.NRGBA{0, 0, 0, 255}
	}
	return color.NRGBA{255, 255, 255, 255}
}

func paintBackground(img *image.NRGBA, kind string, a, b color.NRGBA, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	switch kind {
	case BgTransparent:
		return
	case BgSolid:
		draw.Draw(img, img.Rect, image.NewUniform(a), image.Point{}, draw.Src)
	case BgGradient:
		ang := rng.Float64() * 2 * math.Pi
		dx, dy := math.Cos(ang), math.Sin(ang)
		span := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
		off := math.Min(0, dx*float64(w)) + math.Min(0, dy*float64(h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t := (dx*float64(x) + dy*float64(y) - off) / span
				setMix(img, x, y, a, b, t, 0)
			}
		}
	case BgNoise:
		// Fractal value noise (a texture) plus per-pixel grain.
		lat := newValueNoise(rng, 3)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t := lat.at(float64(x)/float64(w), float64(y)/float64(h))
				setMix(img, x, y, a, b, t, rng.IntN(25)-12)
			}
		}
	}
}

func setMix(img *image.NRGBA, x, y int, a, b color.NRGBA, t float64, grain int) {
	t = math.Max(0, math.Min(1, t))
	p := img.Pix[y*img.Stride+x*4:]
	mix := func(u, v uint8) uint8 {
		return uint8(max(0, min(255, int(float64(u)*(1-t)+float64(v)*t+0.5)+grain)))
	}
	p[0], p[1], p[2], p[3] = mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255
}

type valueNoise struct {
	octaves [][]float64
	sizes   []int
}

func newValueNoise(rng *rand.Rand, octaves int) *valueNoise {
	v := &valueNoise{}
	for o := 0; o < octaves; o++ {
		n := 4 << o
		g := make([]float64, (n+1)*(n+1))
		for i := range g {
			g[i] = rng.Float64()
		}
		v.octaves = append(v.octaves, g)
		v.sizes = append(v.sizes, n)
	}
	return v
}

func (v *valueNoise) at(x, y float64) float64 {
	var s, wsum float64
	amp := 1.0
	for o, g := range v.octaves {
		n := v.sizes[o]
		fx, fy := x*float64(n), y*float64(n)
		ix, iy := min(int(fx), n-1), min(int(fy), n-1)
		ax, ay := fx-float64(ix), fy-float64(iy)
		ax, ay = ax*ax*(3-2*ax), ay*ay*(3-2*ay)
		c := func(i, j int) float64 { return g[j*(n+1)+i] }
		val := c(ix, iy)*(1-ax)*(1-ay) + c(ix+1, iy)*ax*(1-ay) + c(ix, iy+1)*(1-ax)*ay + c(ix+1, iy+1)*ax*ay
		s += amp * val
		wsum += amp
		amp /= 2
	}
	return s / wsum
}

func alphaBounds(img *image.NRGBA) image.Rectangle {
	r := image.Rectangle{}
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if img.Pix[y*img.Stride+x*4+3] >= 128 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// place finds a position for a box of size sz inside bounds that overlaps
// none of taken (a designer puts art side by side).
func place(rng *rand.Rand, sz image.Point, bounds image.Rectangle, taken []image.Rectangle) (image.Point, bool) {
	if sz.X >= bounds.Dx() || sz.Y >= bounds.Dy() {
		return image.Point{}, false
	}
	for range 40 {
		p := image.Pt(rng.IntN(bounds.Dx()-sz.X), rng.IntN(bounds.Dy()-sz.Y))
		r := image.Rectangle{Min: p, Max: p.Add(sz)}
		ok := true
		for _, t := range taken {
			if r.Overlaps(t.Inset(-8)) {
				ok = false
				break
			}
		}
		if ok {
			return p, true
		}
	}
	return image.Point{}, false
}
