package benigngen

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/muster-dev/muster/bank/iconify"
)

// Size is a canvas size with its weight in the mix.
type Size struct {
	W, H   int
	Weight float64
}

// DefaultSizes are the canvases merchants upload: the common 1200×1200
// square, 4500×5400 print files (the print-on-demand standard for shirts),
// other print-file and poster shapes, and small web-sized art.
var DefaultSizes = []Size{
	{1200, 1200, 0.30}, {4500, 5400, 0.18}, {3000, 3000, 0.08}, {2400, 3200, 0.08}, {1800, 2400, 0.08},
	{1000, 1000, 0.10}, {2000, 1200, 0.06}, {800, 800, 0.06}, {500, 500, 0.06},
}

// Config sets what a Generator draws.
type Config struct {
	// Seed selects the designs: the same seed and sources give the same
	// bytes. Development seeds and frozen test seeds are kept apart by
	// the caller (eval/benign: dev 1–99, test 1000+).
	Seed uint64
	// Sizes to draw canvases from (default DefaultSizes).
	Sizes []Size
}

// Sample is one generated design.
type Sample struct {
	Index int
	Seed  uint64
	// Name is "s<seed>-<index>".
	Name string
	// Kind is what the design shows: icon, icons, emoji, slogan,
	// icon+slogan, badge, repeat, texture.
	Kind string
	// Background is the ground: transparent, solid, gradient, radial,
	// clouds, grain, paper, photo, halftone, stripes, dots, checker,
	// chevron, plaid.
	Background string
	// Effects applied to the art: halftone, distressed, outline, shadow.
	Effects []string
	// Format is png or jpeg-Q.
	Format        string
	Width, Height int
	// Detail names the icons and text used.
	Detail    string
	Data      []byte
	MediaType string
}

// Describe is a one-line description.
func (s Sample) Describe() string {
	e := strings.Join(s.Effects, "+")
	if e == "" {
		e = "plain"
	}
	return fmt.Sprintf("%s %dx%d %s on %s, %s, %s (%s)", s.Name, s.Width, s.Height, s.Kind, s.Background, e, s.Format, s.Detail)
}

// Generator draws designs from Sources.
type Generator struct {
	cfg Config
	src *Sources
}

// NewGenerator returns a generator over src.
func NewGenerator(cfg Config, src *Sources) (*Generator, error) {
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = DefaultSizes
	}
	if src == nil || len(src.Sets) == 0 || len(src.Fonts) == 0 {
		return nil, errors.New("benigngen: no icons or fonts")
	}
	return &Generator{cfg: cfg, src: src}, nil
}

// Slogans are harmless shirt slogans of the kind merchants print.
var Slogans = []string{
	"Good Vibes Only", "Stay Wild", "Coffee First", "Born to Hike", "Plant Lady", "Best Dad Ever", "Hello Sunshine",
	"Keep It Simple", "Adventure Awaits", "Just Keep Swimming", "Mountain Air", "Team Bride", "Cat Mom", "Dog Dad",
	"Eat Sleep Fish Repeat", "Retro Summer 1986", "Class of 2026", "Happy Camper", "Sea You Later", "Taco Tuesday",
	"Live Laugh Garden", "Proud Nurse", "Ride or Die Crew", "Make Today Awesome", "Book Club", "Weekend Mode",
	"Salt Water Soul", "Yoga Pants Club", "Kindness Matters", "Gym Hair Don't Care", "Vintage Garage", "Lake Life",
	"Brew Crew", "Desert Rose", "Cozy Season", "Pumpkin Spice", "Merry and Bright", "Oh Christmas Tree",
	"Grandma's Kitchen", "Sunset Chaser", "Local Legend", "Gamer Mode On", "Chill Out", "Mama Bear", "Little Sister",
	"Future Astronaut", "Sweet Home Texas", "Aloha Beaches", "Bee Kind", "Let It Grow", "Peace Love Pizza",
	"Run the World", "Trail Runner", "Night Owl", "Early Bird", "Farm Fresh Eggs", "Vinyl Junkie", "Space Cadet",
	"Spread Joy", "Hustle Hard", "Fueled by Tea", "World's Okayest Runner", "Camp Vibes", "Snow Day", "Mint Condition",
	"Bonjour", "Ciao Bella", "Hola Amigo", "Danke Schön", "Amour", "Hygge", "Wanderlust", "Namaste", "Carpe Diem",
}

// Sample draws design i of the generator's seed.
func (g *Generator) Sample(i int) (Sample, error) {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)*0x9e3779b97f4a7c15+1))
	s := Sample{Index: i, Seed: g.cfg.Seed, Name: fmt.Sprintf("s%d-%04d", g.cfg.Seed, i)}
	sz := pickSize(rng, g.cfg.Sizes)
	s.Width, s.Height = sz.W, sz.H
	w, h := sz.W, sz.H

	s.Background = pick(rng, []string{"transparent", "solid", "gradient", "radial", "clouds", "grain", "paper", "photo", "halftone", "stripes", "dots", "checker", "chevron", "plaid"},
		[]float64{0.24, 0.14, 0.09, 0.05, 0.06, 0.06, 0.07, 0.07, 0.04, 0.04, 0.04, 0.03, 0.03, 0.04})
	pal := palette(rng)
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	paintBackground(canvas, s.Background, pal, rng)

	art := image.NewNRGBA(canvas.Rect) // the art layer, composited over the ground
	s.Kind = pick(rng, []string{"icon", "icons", "emoji", "slogan", "icon+slogan", "badge", "repeat", "texture"},
		[]float64{0.18, 0.08, 0.16, 0.22, 0.16, 0.06, 0.07, 0.07})
	if s.Kind == "texture" && (s.Background == "transparent" || s.Background == "solid") {
		s.Background = "photo"
		paintBackground(canvas, s.Background, pal, rng)
	}
	var detail []string
	ink := contrasting(rng, pal, s.Background)
	short := min(w, h)
	switch s.Kind {
	case "icon", "emoji":
		set := g.pickSet(rng, s.Kind == "emoji")
		ic := set.Icons[rng.IntN(len(set.Icons))]
		side := int(float64(short) * (0.35 + rng.Float64()*0.5))
		if err := drawIcon(art, ic, set.Colour, side, ink, centre(w, h, side, rng)); err != nil {
			return s, err
		}
		detail = append(detail, set.Prefix+":"+ic.Name)
	case "icons":
		k := 2 + rng.IntN(5)
		for j := 0; j < k; j++ {
			set := g.pickSet(rng, rng.IntN(2) == 0)
			ic := set.Icons[rng.IntN(len(set.Icons))]
			side := int(float64(short) * (0.12 + rng.Float64()*0.25))
			at := image.Pt(rng.IntN(max(1, w-side)), rng.IntN(max(1, h-side)))
			if err := drawIcon(art, ic, set.Colour, side, contrasting(rng, pal, s.Background), at); err != nil {
				return s, err
			}
			detail = append(detail, set.Prefix+":"+ic.Name)
		}
	case "slogan", "icon+slogan", "badge":
		text := Slogans[rng.IntN(len(Slogans))]
		f := g.src.Fonts[rng.IntN(len(g.src.Fonts))]
		detail = append(detail, fmt.Sprintf("%q in %s", text, f.Name))
		top := h / 2
		if s.Kind == "icon+slogan" {
			set := g.pickSet(rng, rng.IntN(2) == 0)
			ic := set.Icons[rng.IntN(len(set.Icons))]
			side := int(float64(short) * (0.3 + rng.Float64()*0.25))
			at := image.Pt((w-side)/2, h/2-side-short/20)
			if err := drawIcon(art, ic, set.Colour, side, ink, at); err != nil {
				return s, err
			}
			detail = append(detail, set.Prefix+":"+ic.Name)
			top = h/2 + short/20
		}
		if s.Kind == "badge" {
			drawBadge(art, pal[rng.IntN(len(pal))], ink, rng)
		}
		if err := drawText(art, f.Font, text, ink, top, s.Kind == "icon+slogan", rng); err != nil {
			return s, err
		}
	case "repeat":
		set := g.pickSet(rng, rng.IntN(2) == 0)
		ic := set.Icons[rng.IntN(len(set.Icons))]
		step := int(float64(short) * (0.08 + rng.Float64()*0.15))
		side := int(float64(step) * (0.5 + rng.Float64()*0.4))
		tile, err := renderIcon(ic, set.Colour, side, ink)
		if err != nil {
			return s, err
		}
		for y, row := 0, 0; y < h; y, row = y+step, row+1 {
			off := 0
			if row%2 == 1 {
				off = step / 2
			}
			for x := -off; x < w; x += step {
				over(art, tile, image.Pt(x+(step-side)/2, y+(step-side)/2), 1)
			}
		}
		detail = append(detail, set.Prefix+":"+ic.Name)
	case "texture":
		// All-over print: the ground is the design.
	}
	if s.Kind != "texture" {
		if rng.Float64() < 0.18 {
			s.Effects = append(s.Effects, "shadow")
			shadow(art, short/120+2, rng)
		}
		if rng.Float64() < 0.12 {
			s.Effects = append(s.Effects, "outline")
			outline(art, short/200+2, contrasting(rng, pal, s.Background))
		}
		if rng.Float64() < 0.15 {
			s.Effects = append(s.Effects, "halftone")
			art = halftone(art, max(5, short/(40+rng.IntN(120))))
		}
		if rng.Float64() < 0.2 {
			s.Effects = append(s.Effects, "distressed")
			distress(art, rng)
		}
		over(canvas, art, image.Point{}, 1)
	}
	s.Detail = strings.Join(detail, ", ")

	// Encoding: transparent designs stay PNG; others PNG or JPEG.
	var buf bytes.Buffer
	if s.Background == "transparent" || rng.Float64() < 0.4 {
		s.Format, s.MediaType = "png", "image/png"
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, canvas); err != nil {
			return s, err
		}
	} else {
		q := []int{60, 75, 85, 95}[rng.IntN(4)]
		s.Format, s.MediaType = fmt.Sprintf("jpeg-%d", q), "image/jpeg"
		if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: q}); err != nil {
			return s, err
		}
	}
	s.Data = buf.Bytes()
	return s, nil
}

func (g *Generator) pickSet(rng *rand.Rand, colour bool) IconSet {
	var c []IconSet
	for _, s := range g.src.Sets {
		if s.Colour == colour && len(s.Icons) > 0 {
			c = append(c, s)
		}
	}
	if len(c) == 0 {
		c = g.src.Sets
	}
	return c[rng.IntN(len(c))]
}

func pickSize(rng *rand.Rand, sizes []Size) Size {
	ws := make([]float64, len(sizes))
	for i, s := range sizes {
		ws[i] = s.Weight
	}
	return sizes[pickIndex(rng, ws)]
}

func pick(rng *rand.Rand, names []string, weights []float64) string {
	return names[pickIndex(rng, weights)]
}

func pickIndex(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func centre(w, h, side int, rng *rand.Rand) image.Point {
	jx := int(float64(w-side) * (rng.Float64() - 0.5) * 0.3)
	jy := int(float64(h-side) * (rng.Float64() - 0.5) * 0.3)
	return image.Pt((w-side)/2+jx, (h-side)/2+jy)
}

// palette is a small harmonious colour scheme: a hue with its neighbours
// and complement at varied lightness, the way merchants pick colours.
func palette(rng *rand.Rand) []color.NRGBA {
	h := rng.Float64() * 360
	var out []color.NRGBA
	for _, d := range []float64{0, 30, -30, 180, 150} {
		out = append(out, hsl(math.Mod(h+d+360, 360), 0.2+rng.Float64()*0.7, 0.15+rng.Float64()*0.7))
	}
	out = append(out, color.NRGBA{255, 255, 255, 255}, color.NRGBA{20, 20, 24, 255}, hsl(h, 0.15, 0.92))
	return out
}

func hsl(h, s, l float64) color.NRGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return color.NRGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

func lum(c color.NRGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// contrasting picks an ink that stands out from the ground's main colour.
func contrasting(rng *rand.Rand, pal []color.NRGBA, bg string) color.NRGBA {
	base := pal[0]
	if bg == "transparent" {
		base = color.NRGBA{255, 255, 255, 255}
	}
	for k := 0; k < 12; k++ {
		c := pal[rng.IntN(len(pal))]
		if math.Abs(lum(c)-lum(base)) > 70 {
			return c
		}
	}
	if lum(base) > 128 {
		return color.NRGBA{20, 20, 24, 255}
	}
	return color.NRGBA{250, 250, 245, 255}
}

func renderIcon(ic iconify.Icon, colour bool, side int, ink color.NRGBA) (*image.NRGBA, error) {
	c := ink
	if colour {
		c = color.NRGBA{40, 40, 40, 255} // the few currentColor parts of colour sets
	}
	return iconify.Render(ic, max(8, side), c)
}

func drawIcon(dst *image.NRGBA, ic iconify.Icon, colour bool, side int, ink color.NRGBA, at image.Point) error {
	img, err := renderIcon(ic, colour, side, ink)
	if err != nil {
		return err
	}
	over(dst, img, at, 1)
	return nil
}

// over composites src (non-premultiplied) over dst at offset, with an
// extra opacity.
func over(dst, src *image.NRGBA, at image.Point, opacity float64) {
	r := src.Rect.Add(at.Sub(src.Rect.Min)).Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		so := src.PixOffset(r.Min.X-at.X+src.Rect.Min.X, y-at.Y+src.Rect.Min.Y)
		do := dst.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x, so, do = x+1, so+4, do+4 {
			sa := float64(src.Pix[so+3]) / 255 * opacity
			if sa == 0 {
				continue
			}
			da := float64(dst.Pix[do+3]) / 255
			oa := sa + da*(1-sa)
			for k := 0; k < 3; k++ {
				v := (float64(src.Pix[so+k])*sa + float64(dst.Pix[do+k])*da*(1-sa)) / oa
				dst.Pix[do+k] = uint8(v + 0.5)
			}
			dst.Pix[do+3] = uint8(oa*255 + 0.5)
		}
	}
}

// drawText sets a slogan in one or two lines, fitted to about 80 % of the
// width, centred horizontally; its block starts at top when below is set,
// otherwise it is centred on top.
func drawText(dst *image.NRGBA, f *opentype.Font, text string, ink color.NRGBA, top int, below bool, rng *rand.Rand) error {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	lines := []string{text}
	if words := strings.Fields(text); len(words) >= 3 && rng.IntN(2) == 0 {
		k := len(words) / 2
		lines = []string{strings.Join(words[:k], " "), strings.Join(words[k:], " ")}
	}
	if rng.IntN(3) == 0 {
		for i := range lines {
			lines[i] = strings.ToUpper(lines[i])
		}
	}
	// Size: fit the widest line to the target width.
	target := float64(w) * (0.55 + rng.Float64()*0.3)
	size := float64(min(w, h)) / 8
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return err
	}
	widest := 0.0
	for _, l := range lines {
		widest = math.Max(widest, float64(font.MeasureString(face, l).Round()))
	}
	face.Close()
	if widest > 0 {
		size *= target / widest
	}
	size = math.Min(size, float64(h)/float64(len(lines))*0.6)
	face, err = opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return err
	}
	defer face.Close()
	m := face.Metrics()
	lineH := (m.Ascent + m.Descent).Ceil()
	blockH := lineH * len(lines)
	y0 := top - blockH/2
	if below {
		y0 = top
	}
	mask := image.NewAlpha(dst.Rect)
	for i, l := range lines {
		adv := font.MeasureString(face, l).Round()
		d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face,
			Dot: fixed.P((w-adv)/2, y0+i*lineH+m.Ascent.Ceil())}
		d.DrawString(l)
	}
	for i, a := range mask.Pix {
		if a == 0 {
			continue
		}
		x, y := i%mask.Stride, i/mask.Stride
		o := dst.PixOffset(x, y)
		sa := float64(a) / 255
		da := float64(dst.Pix[o+3]) / 255
		oa := sa + da*(1-sa)
		for k, v := range [3]uint8{ink.R, ink.G, ink.B} {
			dst.Pix[o+k] = uint8((float64(v)*sa+float64(dst.Pix[o+k])*da*(1-sa))/oa + 0.5)
		}
		dst.Pix[o+3] = uint8(oa*255 + 0.5)
	}
	return nil
}

// drawBadge draws a filled circle or rounded shield with a ring behind the text.
func drawBadge(dst *image.NRGBA, fill, ring color.NRGBA, rng *rand.Rand) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	cx, cy := float64(w)/2, float64(h)/2
	r := float64(min(w, h)) * (0.3 + rng.Float64()*0.15)
	ringW := r * 0.06
	for y := int(cy - r - 2); y < int(cy+r+2); y++ {
		for x := int(cx - r - 2); x < int(cx+r+2); x++ {
			if !(image.Point{x, y}.In(dst.Rect)) {
				continue
			}
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			var c color.NRGBA
			switch {
			case d > r:
				continue
			case d > r-ringW:
				c = ring
			default:
				c = fill
			}
			dst.SetNRGBA(x, y, c)
		}
	}
}
