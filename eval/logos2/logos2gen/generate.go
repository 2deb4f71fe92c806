package logos2gen

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/muster-dev/muster/bank/iconify"
)

// Kinds of design.
const (
	KindOwn     = "own"     // a bank logo drawn from the bank's own artwork
	KindOther   = "other"   // a bank brand drawn by another artist
	KindFree    = "free"    // brand-free art only
	KindHeldOut = "heldout" // a brand held out of the bank (brand-like, not in the bank)
)

// Config sets what is generated.
type Config struct {
	Seed uint64
	// Counts per kind; zero means 200 own, 100 other, 150 free, 50 heldout.
	Own, Other, Free, HeldOut int
	// Test allows the held-out artist sets (frozen test seeds only).
	Test        bool
	Width       int // default 1200×1200
	Height      int
	LargeWidth  int // one design in LargeEvery: default 4500×5400
	LargeHeight int
	LargeEvery  int // default 10
	// NoPatternGrounds leaves out the pattern grounds (checker, stripes,
	// chevron, dots) added with match-10: the designs are then those of
	// match-9's evaluation.
	NoPatternGrounds bool
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.Own+c.Other+c.Free+c.HeldOut == 0 {
		c.Own, c.Other, c.Free, c.HeldOut = 200, 100, 150, 50
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
	return c
}

// Sample is one generated design with its label.
type Sample struct {
	Index      int
	Kind       string
	Slug       string // the brand drawn (own, other, heldout)
	Set        string // whose artwork: simple-icons, an artist set, or a brand-free set
	Icon       string
	Box        image.Rectangle // the main art's pixels (alpha ≥ 128), canvas coordinates
	Scale      float64         // main art's longer side / canvas shorter side (before turning)
	Angle      float64
	Persp      float64
	Style      string // solid, brand, outline, sticker, shadow, original
	Distressed bool
	Background string
	Occlusion  string // none, behind (drawn over other art), art (art over it), text (text across it)
	Format     string
	Width      int
	Height     int
	Data       []byte
}

// Positive reports whether the design carries a bank logo.
func (s *Sample) Positive() bool { return s.Kind == KindOwn || s.Kind == KindOther }

// Generator makes samples; Sample(i) is deterministic for a seed.
type Generator struct {
	cfg     Config
	src     *Sources
	own     []iconify.Icon // bank entries (not held out)
	heldOwn []iconify.Icon // held-out entries' own artwork
	artists []ArtistSet    // usable here (in bank, or held out on test seeds)
	heldArt []artistIcon   // other artists' drawings of held-out entries
	free    []FreeSet
}

type artistIcon struct {
	set    *ArtistSet
	i      int
	colour bool
}

// NewGenerator prepares a generator.
func NewGenerator(cfg Config, src *Sources) (*Generator, error) {
	cfg = cfg.WithDefaults()
	g := &Generator{cfg: cfg, src: src, free: src.Free}
	for _, ic := range src.Brands.Icons {
		if HeldOutEntry(ic.Name) {
			g.heldOwn = append(g.heldOwn, ic)
		} else {
			g.own = append(g.own, ic)
		}
	}
	for i := range src.Artists {
		a := &src.Artists[i]
		if a.HeldOut && !cfg.Test {
			continue
		}
		// only the drawings of bank entries are positives
		in := ArtistSet{Name: a.Name, HeldOut: a.HeldOut, Colour: a.Colour}
		for j, ic := range a.Icons {
			if HeldOutEntry(a.Slug[j]) {
				g.heldArt = append(g.heldArt, artistIcon{set: a, i: j, colour: a.Colour})
				continue
			}
			in.Icons = append(in.Icons, ic)
			in.Slug = append(in.Slug, a.Slug[j])
		}
		g.artists = append(g.artists, in)
	}
	if len(g.own) == 0 || len(g.artists) == 0 || len(g.free) == 0 || len(src.Fonts) == 0 {
		return nil, fmt.Errorf("logos2gen: missing sources")
	}
	return g, nil
}

// Len is the number of samples.
func (g *Generator) Len() int { return g.cfg.Own + g.cfg.Other + g.cfg.Free + g.cfg.HeldOut }

func (g *Generator) kind(i int) string {
	switch c := g.cfg; {
	case i < c.Own:
		return KindOwn
	case i < c.Own+c.Other:
		return KindOther
	case i < c.Own+c.Other+c.Free:
		return KindFree
	}
	return KindHeldOut
}

var phrases = strings.Fields(`summer vibes good times only coffee lover best dad ever
weekend mode adventure awaits stay wild keep calm team bride happy camper
born to ride mountain life beach please hello world level up game over
family reunion class of 2026 dream big hustle hard love wins ocean soul
night owl plant mom dog person est 1987 original vintage authentic since
brooklyn tokyo berlin lagos austin crew squad champions finals league`)

// scaleBands are the logo scales drawn (each equally likely).
var scaleBands = [][2]float64{{0.05, 0.12}, {0.12, 0.2}, {0.2, 0.35}, {0.35, 0.5}, {0.5, 0.7}}

// Band names a scale.
func Band(s float64) string {
	for _, b := range scaleBands {
		if s < b[1] {
			return fmt.Sprintf("%02.0f-%02.0f%%", 100*b[0], 100*b[1])
		}
	}
	return "50-70%"
}

// Sample generates design i.
func (g *Generator) Sample(i int) (Sample, error) {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)^0x10605))
	s := Sample{Index: i, Kind: g.kind(i), Width: g.cfg.Width, Height: g.cfg.Height}
	if i%g.cfg.LargeEvery == g.cfg.LargeEvery-1 {
		s.Width, s.Height = g.cfg.LargeWidth, g.cfg.LargeHeight
	}
	short := min(s.Width, s.Height)

	// The main art.
	var ic iconify.Icon
	colourSet := false
	switch s.Kind {
	case KindOwn:
		ic = g.own[rng.IntN(len(g.own))]
		s.Slug, s.Set = ic.Name, "simple-icons"
	case KindOther:
		a := &g.artists[rng.IntN(len(g.artists))]
		if g.cfg.Test && rng.IntN(2) == 0 { // half the test seeds' other-artist designs come from held-out sets
			var held []*ArtistSet
			for k := range g.artists {
				if g.artists[k].HeldOut {
					held = append(held, &g.artists[k])
				}
			}
			if len(held) > 0 {
				a = held[rng.IntN(len(held))]
			}
		}
		j := rng.IntN(len(a.Icons))
		ic, s.Slug, s.Set, colourSet = a.Icons[j], a.Slug[j], a.Name, a.Colour
	case KindFree:
		f := &g.free[rng.IntN(len(g.free))]
		ic, s.Set, colourSet = f.Icons[rng.IntN(len(f.Icons))], f.Name, f.Colour
	case KindHeldOut:
		if rng.IntN(5) < 2 && len(g.heldArt) > 0 {
			h := g.heldArt[rng.IntN(len(g.heldArt))]
			ic, s.Slug, s.Set, colourSet = h.set.Icons[h.i], h.set.Slug[h.i], h.set.Name, h.colour
		} else {
			ic = g.heldOwn[rng.IntN(len(g.heldOwn))]
			s.Slug, s.Set = ic.Name, "simple-icons"
		}
	}
	s.Icon = ic.Name
	b := scaleBands[rng.IntN(len(scaleBands))]
	s.Scale = b[0] + (b[1]-b[0])*rng.Float64()
	if rng.IntN(10) < 7 {
		s.Angle = -30 + 60*rng.Float64()
	}
	if rng.IntN(10) < 3 {
		s.Persp = 0.02 + 0.05*rng.Float64()
	}
	styles := []string{"solid", "solid", "brand", "brand", "outline", "sticker", "shadow"}
	if colourSet {
		styles = append(styles, "original", "original", "original", "original", "original")
	}
	s.Style = styles[rng.IntN(len(styles))]
	s.Distressed = rng.IntN(5) == 0
	bgs := []string{BgTransparent, BgSolid, BgSolid, BgGradient, BgPhoto, BgPhoto, BgPhoto}
	s.Background = bgs[rng.IntN(len(bgs))]
	occl := []string{"none", "none", "none", "none", "behind", "art", "text", "text"}
	s.Occlusion = occl[rng.IntN(len(occl))]

	canvas := image.NewNRGBA(image.Rect(0, 0, s.Width, s.Height))
	bgA, bgB := randColour(rng), randColour(rng)
	paintBackground(canvas, s.Background, bgA, bgB, rng)
	// A third of the opaque grounds are pattern grounds (match-10). The
	// choice and the pattern come from a stream of their own, and the
	// ground drawn first is painted over, so every other design of a seed
	// is the same as before pattern grounds were added.
	if prng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)^0x9a77e4)); !g.cfg.NoPatternGrounds && s.Background != BgTransparent && prng.IntN(3) == 0 {
		s.Background = PatternGrounds[prng.IntN(len(PatternGrounds))]
		paintPattern(canvas, s.Background, bgA, bgB, prng)
	}

	// Render the main art's layers (the fill in black or its own colours,
	// and the second colour's mask), turned and in perspective.
	size := max(8, int(s.Scale*float64(short)))
	base, err := iconify.Render(ic, size, color.NRGBA{A: 255})
	if err != nil {
		return s, err
	}
	stroke := max(2, int(float64(size)*(0.015+0.025*rng.Float64())))
	p := stroke + 2
	base = pad(base, p)
	w, h := base.Rect.Dx(), base.Rect.Dy()
	m := alphaMask(base)
	var fill, second *image.NRGBA
	switch s.Style {
	case "outline":
		r := max(1, stroke/2)
		dl, er := morph(m, w, h, r, true), morph(m, w, h, r, false)
		for k := range dl {
			dl[k] = dl[k] && !er[k]
		}
		fill = paintMask(dl, w, h, color.NRGBA{A: 255})
	case "sticker":
		fill = base
		second = paintMask(morph(m, w, h, stroke, true), w, h, color.NRGBA{A: 255})
	case "shadow":
		fill = base
		sh := image.NewNRGBA(base.Rect)
		off := image.Pt(stroke, stroke)
		draw.Draw(sh, base.Rect.Add(off), base, image.Point{}, draw.Src)
		second = sh
	default:
		fill = base
	}
	if s.Distressed {
		distress(fill, 0.1+0.15*rng.Float64(), rng)
	}
	wp := newWarp(w, h, s.Angle, s.Persp, rng)
	fill = wp.apply(fill)
	if second != nil {
		second = wp.apply(second)
	}
	ab := alphaBounds(fill)
	if second != nil {
		ab = ab.Union(alphaBounds(second))
	}
	fw, fh := fill.Rect.Dx(), fill.Rect.Dy()
	if fw >= s.Width || fh >= s.Height {
		// A large logo turned by up to 30° (and padded for its outline)
		// can outgrow the canvas: it is shrunk to fit (test seed 9003
		// drew one; before, the whole run stopped). Designs that fit are
		// unchanged.
		k := 0.95 * min(float64(s.Width)/float64(fw), float64(s.Height)/float64(fh))
		fill = shrinkImage(fill, k)
		if second != nil {
			second = shrinkImage(second, k)
		}
		s.Scale *= k
		ab = alphaBounds(fill)
		if second != nil {
			ab = ab.Union(alphaBounds(second))
		}
		fw, fh = fill.Rect.Dx(), fill.Rect.Dy()
	}
	pos := image.Pt(rng.IntN(s.Width-fw), rng.IntN(s.Height-fh))
	s.Box = alphaBounds(fill).Add(pos)
	taken := []image.Rectangle{ab.Add(pos)}

	// Art behind the main art.
	if s.Occlusion == "behind" {
		f := &g.free[rng.IntN(len(g.free))]
		bs := int(float64(short) * (0.4 + 0.5*rng.Float64()))
		if art, err := g.freeArt(f, bs, rng, canvas, image.Rectangle{}); err == nil {
			c := s.Box.Min.Add(s.Box.Size().Div(2))
			at := c.Sub(art.Rect.Size().Div(2)).Add(image.Pt(rng.IntN(bs/3+1)-bs/6, rng.IntN(bs/3+1)-bs/6))
			draw.Draw(canvas, art.Rect.Add(at), art, image.Point{}, draw.Over)
		}
	}

	// Colours against what lies under the art.
	under := meanColour(canvas, taken[0])
	var cFill, cSecond color.NRGBA
	switch s.Style {
	case "brand":
		cFill = brandColour(g.src.Colours[s.Slug], rng)
		if colourDist(cFill, under) < 90 {
			// a merchant puts a contrasting outline around it
			s.Style = "brand+sticker"
			second = wp.apply(paintMask(morph(m, w, h, stroke, true), w, h, color.NRGBA{A: 255}))
			cSecond = contrasting(rng, cFill)
		}
	default:
		cFill = contrasting(rng, under)
		if second != nil {
			cSecond = contrasting(rng, cFill)
			if colourDist(cSecond, under) < 60 && s.Style == "shadow" {
				cSecond = contrasting(rng, under)
			}
		}
	}
	if second != nil {
		recolour(second, cSecond)
		draw.Draw(canvas, second.Rect.Add(pos), second, image.Point{}, draw.Over)
	}
	if s.Style != "original" {
		recolour(fill, cFill)
	}
	draw.Draw(canvas, fill.Rect.Add(pos), fill, image.Point{}, draw.Over)

	// Art over part of it.
	if s.Occlusion == "art" {
		f := &g.free[rng.IntN(len(g.free))]
		os := max(8, int(float64(max(s.Box.Dx(), s.Box.Dy()))*(0.2+0.2*rng.Float64())))
		if art, err := g.freeArt(f, os, rng, canvas, s.Box); err == nil {
			// centred near an edge of the logo's box
			var c image.Point
			switch rng.IntN(4) {
			case 0:
				c = image.Pt(s.Box.Min.X+rng.IntN(max(1, s.Box.Dx())), s.Box.Min.Y)
			case 1:
				c = image.Pt(s.Box.Min.X+rng.IntN(max(1, s.Box.Dx())), s.Box.Max.Y)
			case 2:
				c = image.Pt(s.Box.Min.X, s.Box.Min.Y+rng.IntN(max(1, s.Box.Dy())))
			default:
				c = image.Pt(s.Box.Max.X, s.Box.Min.Y+rng.IntN(max(1, s.Box.Dy())))
			}
			draw.Draw(canvas, art.Rect.Add(c.Sub(art.Rect.Size().Div(2))), art, image.Point{}, draw.Over)
		}
	}
	// Text across it.
	if s.Occlusion == "text" {
		px := math.Max(10, float64(s.Box.Dy())*(0.1+0.15*rng.Float64()))
		g.text(canvas, rng, px, func(sz image.Point) (image.Point, bool) {
			x := s.Box.Min.X + s.Box.Dx()/2 - sz.X/2 + rng.IntN(max(1, s.Box.Dx()/2)) - s.Box.Dx()/4
			y := s.Box.Min.Y + int(float64(s.Box.Dy())*(0.2+0.6*rng.Float64())) - sz.Y/2
			return image.Pt(max(0, min(x, s.Width-sz.X)), max(0, min(y, s.Height-sz.Y))), true
		})
	}

	// Other art beside it, and lines of text.
	for range rng.IntN(3) {
		f := &g.free[rng.IntN(len(g.free))]
		ds := int(float64(short) * (0.08 + 0.22*rng.Float64()))
		art, err := g.freeArt(f, ds, rng, canvas, image.Rectangle{})
		if err != nil {
			continue
		}
		if at, ok := place(rng, art.Rect.Size(), canvas.Rect, taken); ok {
			draw.Draw(canvas, art.Rect.Add(at), art, image.Point{}, draw.Over)
			taken = append(taken, art.Rect.Add(at))
		}
	}
	for range rng.IntN(3) {
		px := float64(short) * (0.03 + 0.07*rng.Float64())
		g.text(canvas, rng, px, func(sz image.Point) (image.Point, bool) {
			at, ok := place(rng, sz, canvas.Rect, taken)
			if ok {
				taken = append(taken, image.Rectangle{Min: at, Max: at.Add(sz)})
			}
			return at, ok
		})
	}

	var buf bytes.Buffer
	if s.Background == BgTransparent || rng.IntN(2) == 0 {
		s.Format = "image/png"
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, canvas); err != nil {
			return s, err
		}
	} else {
		s.Format = "image/jpeg"
		if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 60 + rng.IntN(36)}); err != nil {
			return s, err
		}
	}
	s.Data = buf.Bytes()
	return s, nil
}

// freeArt renders a brand-free icon at size, in its own colours or in a
// colour that stands out from the canvas under near (or the canvas middle).
func (g *Generator) freeArt(f *FreeSet, size int, rng *rand.Rand, canvas *image.NRGBA, near image.Rectangle) (*image.NRGBA, error) {
	ic := f.Icons[rng.IntN(len(f.Icons))]
	if near.Empty() {
		near = canvas.Rect.Inset(canvas.Rect.Dx() / 4)
	}
	c := contrasting(rng, meanColour(canvas, near))
	img, err := iconify.Render(ic, max(8, size), c)
	if err != nil {
		return nil, err
	}
	if a := rng.Float64()*40 - 20; rng.IntN(2) == 0 {
		img = newWarp(img.Rect.Dx(), img.Rect.Dy(), a, 0, rng).apply(img)
	}
	return img, nil
}

// text draws a line of merchant text of px height where at says.
func (g *Generator) text(canvas *image.NRGBA, rng *rand.Rand, px float64, at func(image.Point) (image.Point, bool)) {
	n := 1 + rng.IntN(4)
	start := rng.IntN(len(phrases) - n)
	t := strings.Join(phrases[start:start+n], " ")
	if rng.IntN(2) == 0 {
		t = strings.ToUpper(t)
	}
	face, err := opentype.NewFace(g.src.Fonts[rng.IntN(len(g.src.Fonts))], &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return
	}
	defer face.Close()
	d := &font.Drawer{Dst: canvas, Face: face}
	adv := d.MeasureString(t).Ceil()
	sz := image.Pt(adv, int(px*1.3))
	if sz.X >= canvas.Rect.Dx() {
		return
	}
	p, ok := at(sz)
	if !ok {
		return
	}
	d.Src = image.NewUniform(contrasting(rng, meanColour(canvas, image.Rectangle{Min: p, Max: p.Add(sz)})))
	d.Dot = fixed.P(p.X, p.Y+int(px))
	d.DrawString(t)
}

// place finds a position for a box of size sz inside bounds clear of taken.
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

// brandColour parses a simple-icons hex colour (random when unknown).
func brandColour(hex string, rng *rand.Rand) color.NRGBA {
	v, err := strconv.ParseUint(hex, 16, 32)
	if len(hex) != 6 || err != nil {
		return randColour(rng)
	}
	return color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// warpT is one rotation-plus-perspective applied alike to several layers.
type warpT struct {
	deg, persp float64
	seed       uint64
}

func newWarp(_, _ int, deg, persp float64, rng *rand.Rand) warpT {
	return warpT{deg: deg, persp: persp, seed: rng.Uint64()}
}

func (t warpT) apply(img *image.NRGBA) *image.NRGBA {
	if t.deg == 0 && t.persp == 0 {
		return img
	}
	return warp(img, t.deg, t.persp, rand.New(rand.NewPCG(t.seed, 7)))
}
