// Package evaltext is `make eval-text` and `make bench-text`: it generates
// labelled text designs the way merchants make them (many fonts, sizes,
// colours, rotation, arched lines, outlines, distress, light on dark, two
// lines in different fonts, PNG and JPEG, some 4500×5400 print files with
// small text) carrying brand word marks, banned slogans, hate codes or
// ordinary slogans; reads them with Muster's OCR and, on the same images in
// the same run, with Tesseract 5; and reports word recall, character error
// rate, word-mark recall, slogan decisions per market and ordinary designs
// flagged, per style, for development, validation and frozen test seeds
// apart.
package evaltext

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/muster-dev/muster/bank/phrases"
	"github.com/muster-dev/muster/internal/textrender"
)

// Styles, in the order reports list them.
var Styles = []string{"flat", "rotated", "arched", "outlined", "distressed", "light_on_dark", "two_fonts", "print_file"}

// Kinds of content.
const (
	KindBrand    = "brand"
	KindSlogan   = "slogan"
	KindCode     = "code"
	KindOrdinary = "ordinary"
)

// Design is one generated, labelled design.
type Design struct {
	ID    string
	Set   string // "dev", "val" or "test"
	Style string
	Kind  string
	// Lines are the texts drawn, top to bottom.
	Lines []string
	// Entry is the bank entry (brand slug) or phrase id the design carries.
	Entry string
	// Banned are the phrase's banning jurisdictions (slogans).
	Banned []string
	Fonts  []string
	W, H   int
	Format string // "png" or "jpeg"
	Data   []byte
}

// Text is the ground truth: the lines joined by newlines.
func (d Design) Text() string { return strings.Join(d.Lines, "\n") }

// Content is what designs may say.
type Content struct {
	// Brands are distinctive word marks: slug and mark as written.
	Brands [][2]string
	// Ordinary slogans, split between the sets.
	Ordinary []string
}

// ordinary are slogans merchants print that name no brand and no banned
// phrase. The first half goes to development designs, the second half to
// test designs only.
var ordinary = []string{
	"GOOD VIBES ONLY", "Coffee then everything", "BORN TO RIDE", "Stay wild", "World's best dad", "Keep it simple",
	"SUMMER CAMP CREW", "Dream big", "Plant lover", "I need more space", "Sunday funday", "Mountain club",
	"Adventure awaits", "Cat mom", "Hello sunshine", "Be kind", "Weekend warrior", "Ocean child",
	"Salt and sand", "Pizza is life", "Rise and grind", "Not today", "Bee happy", "Let it grow",
	"TEAM BRIDE", "Vintage garage", "Trust the process", "Good times", "Lake life", "Gym and tonic",
	"Sleepy head", "Night owl", "Stay golden", "Wild at heart", "Hustle hard", "Bookworm",
	"Garden party", "Road trip", "Tacos and tequila", "Happy camper", "Dog dad", "Chill vibes",
	"Make today count", "Go outside", "Small town girl", "Surf club", "Moon child", "Little brother",
	"FOREST RANGER", "Choose joy", "Eat sleep fish", "Music festival", "Lucky charm", "Desert rose",
	"Snow day", "Wanderlust", "Fresh air", "Big sister", "Sweet tooth", "Game on",
	"Cowboy country", "Class of nineteen", "Love wins", "Free spirit", "Hometown hero", "Slow down",
	"Sea you soon", "Good morning", "Bike life", "Mother earth", "Nature lover", "Keep exploring",
}

// Ordinary returns the ordinary slogans for a set (validation designs use
// the development half).
func Ordinary(set string) []string {
	h := len(ordinary) / 2
	if set == "test" {
		return ordinary[h:]
	}
	return ordinary[:h]
}

// Font families: development designs use the first list; test designs use
// fonts never seen in development; validation designs (set "val") use a
// third list in neither, of the kinds merchants print in — condensed DIN,
// signage, slab typewriter, rounded, bubbly and fat display, brush script,
// handwriting, stencil, geometric and bold grotesque — so a change tuned
// on development fonts is checked on unseen fonts without spending the
// frozen test seeds. Validation designs say what development designs say
// (the development brands and ordinary slogans).
var devFontDirs = []string{"dejavu", "lato", "open-sans", "roboto", "liberation", "liberation2", "freefont", "bebas-neue",
	"lobster", "comic-neue", "league-spartan", "dancingscript", "yanone-kaffeesatz", "ebgaramond", "roboto-slab",
	"firacode", "crosextra-carlito"}
var testFontDirs = []string{"staypuft", "cabin", "jura", "linuxlibertine", "femkeklaver", "tomsontalks", "breip", "linux-libertine"}
var valFontDirs = []string{"opendin", "national-park", "courier-prime", "comfortaa", "dosis", "cherrybomb", "leckerli-one",
	"kaushanscript", "humor-sans", "allerta", "beteckna", "manrope"}

// FontsFor lists the installed fonts of a set (file paths).
func FontsFor(set string) []string {
	dirs := devFontDirs
	switch set {
	case "test":
		dirs = testFontDirs
	case "val":
		dirs = valFontDirs
	}
	var out []string
	for _, f := range textrender.Fonts() {
		parts := strings.Split(filepath.ToSlash(f), "/")
		if len(parts) < 2 {
			continue
		}
		fam := parts[len(parts)-2]
		base := strings.ToLower(filepath.Base(f))
		if strings.Contains(base, "math") || strings.Contains(base, "hairline") || strings.Contains(base, "thin") || strings.Contains(base, "extralight") {
			continue // symbol fonts and hairline weights nobody prints text in
		}
		if strings.Contains(base, "outline") {
			// Outline faces (NationalPark-Outline): the outlined style makes
			// its own, and this one's contours render with letters missing
			// ("Dre m big"), so the truth would not be what is printed.
			continue
		}
		for _, d := range dirs {
			if fam == d {
				out = append(out, f)
			}
		}
	}
	return out
}

// slogans are the banned slogans and greetings (not codes), as terms.
type sloganTerm struct {
	id, term string
	banned   []string
	code     bool
}

func slogans(code bool) []sloganTerm {
	var out []sloganTerm
	for _, p := range phrases.All() {
		isCode := p.Category == "code"
		if isCode != code {
			continue
		}
		for _, t := range p.Terms {
			if len([]rune(t)) > 32 {
				continue // the fourteen words: not a print slogan
			}
			out = append(out, sloganTerm{id: p.ID, term: t, banned: p.Banned, code: isCode})
		}
	}
	return out
}

// GeneratorVersion names the generator's output: bump it whenever a change
// alters the designs a seed makes (cached sets are keyed by it).
const GeneratorVersion = "gen-2"

// GenerateCached is Generate through a cache in dir (empty: none): the
// designs of a set, seed and size are rendered once (a 4500×5400 print
// file takes seconds) and read back by later runs. The key includes
// GeneratorVersion and the installed fonts of the set, so a changed
// generator or font set renders anew.
func GenerateCached(dir, set string, seed uint64, n int, c Content, styles []string) ([]Design, error) {
	var keep func(string) bool
	if len(styles) > 0 {
		keep = func(s string) bool { return slices.Contains(styles, s) }
	}
	if dir == "" {
		return GenerateStyles(set, seed, n, c, keep)
	}
	h := sha256.New()
	fmt.Fprintln(h, GeneratorVersion, set, seed, n, strings.Join(FontsFor(set), ","), len(c.Brands), len(c.Ordinary))
	if len(styles) > 0 {
		fmt.Fprintln(h, "styles", strings.Join(styles, ","))
	}
	for _, b := range c.Brands {
		fmt.Fprintln(h, b[0], b[1])
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d-%d-%s.gob", set, seed, n, hex.EncodeToString(h.Sum(nil)[:8])))
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		var ds []Design
		if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&ds); err == nil {
			return ds, nil
		}
	}
	ds, err := GenerateStyles(set, seed, n, c, keep)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ds); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return ds, os.Rename(tmp, path)
}

// Generate makes n designs for a set from seed. Design i has style
// Styles[i%len(Styles)]; kinds are drawn 30 % brand, 20 % slogan, 10 %
// code, 40 % ordinary.
func Generate(set string, seed uint64, n int, c Content) ([]Design, error) {
	return GenerateStyles(set, seed, n, c, nil)
}

// GenerateStyles is Generate keeping only the designs whose style keep
// accepts (nil: all); the others are not rendered, and the kept ones are
// exactly those of the full set.
func GenerateStyles(set string, seed uint64, n int, c Content, keep func(style string) bool) ([]Design, error) {
	rng := rand.New(rand.NewPCG(seed, 0x7e47))
	fonts := newFontPool(set, FontsFor(set))
	if len(fonts.files) == 0 {
		return nil, fmt.Errorf("no fonts for the %s set installed (make text-eval-deps)", set)
	}
	ords := Ordinary(set)
	slo, codes := slogans(false), slogans(true)
	var out []Design
	for i := 0; i < n; i++ {
		d := Design{ID: fmt.Sprintf("%s-%d-%03d", set, seed, i), Set: set, Style: Styles[i%len(Styles)]}
		r := rng.Float64()
		switch {
		case r < 0.3 && len(c.Brands) > 0:
			b := c.Brands[rng.IntN(len(c.Brands))]
			d.Kind, d.Entry = KindBrand, b[0]
			mark := b[1]
			if rng.IntN(2) == 0 {
				mark = strings.ToUpper(mark)
			}
			tmpl := []string{"%s", "%s", "I LOVE %s", "%s FAN CLUB", "TEAM %s", "%s 1985", "%s ORIGINAL"}[rng.IntN(7)]
			d.Lines = []string{fmt.Sprintf(tmpl, mark)}
		case r < 0.5:
			s := slo[rng.IntN(len(slo))]
			d.Kind, d.Entry, d.Banned = KindSlogan, s.id, s.banned
			t := s.term
			if rng.IntN(2) == 0 {
				t = strings.ToUpper(t)
			}
			d.Lines = []string{t}
		case r < 0.6:
			s := codes[rng.IntN(len(codes))]
			d.Kind, d.Entry = KindCode, s.id
			d.Lines = []string{s.term}
		default:
			d.Kind = KindOrdinary
			d.Lines = []string{ords[rng.IntN(len(ords))]}
		}
		if d.Style == "two_fonts" {
			second := ords[rng.IntN(len(ords))]
			if rng.IntN(2) == 0 {
				d.Lines = append([]string{second}, d.Lines...)
			} else {
				d.Lines = append(d.Lines, second)
			}
		}
		skip := keep != nil && !keep(d.Style)
		if err := draw(&d, rng, fonts, skip); err != nil {
			return nil, fmt.Errorf("design %s: %w", d.ID, err)
		}
		if !skip {
			out = append(out, d)
		}
	}
	return out, nil
}

// fontPool is what a set's fonts are drawn from: every file alike
// (development and test designs, as they always were), or, for validation
// designs, a family first and then one of its files — a family of a dozen
// weights would otherwise be drawn twelve times as often as a one-file
// script face.
type fontPool struct {
	files []string
	// families are the files grouped by folder (nil: draw from files).
	families [][]string
}

func newFontPool(set string, files []string) fontPool {
	p := fontPool{files: files}
	if set != "val" {
		return p
	}
	at := map[string]int{}
	for _, f := range files {
		fam := filepath.Dir(f)
		k, ok := at[fam]
		if !ok {
			k = len(p.families)
			at[fam] = k
			p.families = append(p.families, nil)
		}
		p.families[k] = append(p.families[k], f)
	}
	return p
}

func (p fontPool) draw(rng *rand.Rand) string {
	if p.families == nil {
		return p.files[rng.IntN(len(p.files))]
	}
	fam := p.families[rng.IntN(len(p.families))]
	return fam[rng.IntN(len(fam))]
}

// pickFont draws a font that has every glyph of text.
func pickFont(rng *rand.Rand, fonts fontPool, text string) string {
	for tries := 0; tries < 20; tries++ {
		f := fonts.draw(rng)
		if _, ok, err := textrender.Measure(f, text, 50); err == nil && ok {
			return f
		}
	}
	return textrender.DefaultFont
}

var (
	lightBGs = []color.NRGBA{{255, 255, 255, 255}, {245, 240, 225, 255}, {230, 236, 245, 255}, {250, 220, 200, 255}, {210, 230, 205, 255}, {255, 245, 150, 255}}
	darkInks = []color.NRGBA{{15, 15, 15, 255}, {30, 40, 110, 255}, {140, 20, 30, 255}, {20, 90, 50, 255}, {80, 40, 20, 255}, {60, 20, 90, 255}}
	darkBGs  = []color.NRGBA{{0, 0, 0, 255}, {20, 30, 70, 255}, {60, 10, 20, 255}, {30, 60, 40, 255}, {45, 45, 50, 255}}
	lightInk = []color.NRGBA{{255, 255, 255, 255}, {250, 220, 80, 255}, {240, 240, 230, 255}, {120, 220, 250, 255}, {250, 160, 180, 255}}
)

// draw renders the design's lines in its style and encodes it.
func draw(d *Design, rng *rand.Rand, fonts fontPool, skip bool) error {
	d.W, d.H = 1200, 1200
	if rng.IntN(3) == 0 {
		d.W, d.H = 1000+rng.IntN(400), 1000+rng.IntN(400)
	}
	bg := lightBGs[rng.IntN(len(lightBGs))]
	ink := darkInks[rng.IntN(len(darkInks))]
	if d.Style == "light_on_dark" {
		bg, ink = darkBGs[rng.IntN(len(darkBGs))], lightInk[rng.IntN(len(lightInk))]
	}
	transparent := d.Style != "print_file" && rng.IntN(6) == 0
	if transparent {
		bg.A = 0
	}
	scale := 1.0
	if d.Style == "print_file" {
		d.W, d.H = 4500, 5400
		scale = 3.75
	}
	design := textrender.Design{W: d.W, H: d.H, Background: bg, Seed: rng.Uint64(), Noise: []float64{0, 0, 0.3}[rng.IntN(3)]}
	n := len(d.Lines)
	firstFont := ""
	for i, text := range d.Lines {
		f := pickFont(rng, fonts, text)
		if i == 1 && d.Style == "two_fonts" {
			for tries := 0; tries < 5 && f == firstFont; tries++ {
				f = pickFont(rng, fonts, text)
			}
		}
		if i == 0 {
			firstFont = f
		}
		d.Fonts = append(d.Fonts, filepath.Base(f))
		l := textrender.Line{Text: text, Font: f, Colour: ink}
		// Fit the width: 55–85 % of the canvas (arcs and rotations less).
		frac := 0.55 + 0.3*rng.Float64()
		switch d.Style {
		case "rotated", "arched":
			frac *= 0.8
		}
		w100, _, err := textrender.Measure(f, text, 100)
		if err != nil {
			return err
		}
		size := 100 * frac * float64(d.W) / math.Max(w100, 1)
		size = math.Min(size, 0.28*float64(d.H)/float64(n))
		size = math.Max(size, 28*scale)
		l.Size = size
		l.CX = float64(d.W) / 2
		l.CY = float64(d.H) * (float64(i) + 1) / float64(n+1)
		switch d.Style {
		case "rotated":
			l.Angle = []float64{-1, 1}[rng.IntN(2)] * (8 + 37*rng.Float64())
			if rng.IntN(8) == 0 {
				l.Angle = 90 * []float64{-1, 1}[rng.IntN(2)]
				l.Size = math.Min(l.Size, 100*0.8*float64(d.H)/math.Max(w100, 1))
			}
		case "arched":
			// Radius so the line spans 60–140° of its circle.
			span := (60 + 80*rng.Float64()) * math.Pi / 180
			r := (w100 * size / 100) / span
			if rng.IntN(3) == 0 {
				r = -r
			}
			l.Arc = r
		case "outlined":
			l.Outline = math.Max(2, size/22)
			if rng.IntN(2) == 0 {
				l.Fill = bg
				l.Fill.A = 255
			}
		case "distressed":
			l.Distress = 0.1 + 0.15*rng.Float64()
		case "print_file":
			// One large line; the design's text is small: 0.8–2 % of the height.
			l.Size = float64(d.H) * (0.008 + 0.012*rng.Float64()) * 1.4
			l.CX = float64(d.W) * (0.3 + 0.4*rng.Float64())
			l.CY = float64(d.H) * (0.15 + 0.7*rng.Float64())
			if w := w100 * l.Size / 100; l.CX-w/2 < 0 || l.CX+w/2 > float64(d.W) {
				l.CX = float64(d.W) / 2
			}
		}
		design.Lines = append(design.Lines, l)
	}
	if d.Style == "print_file" {
		// A large graphic title that is not part of the truth would blur the
		// metric; instead add a big ordinary line above the small text.
		big := Ordinary(d.Set)[rng.IntN(len(Ordinary(d.Set)))]
		f := pickFont(rng, fonts, big)
		w100, _, _ := textrender.Measure(f, big, 100)
		size := math.Min(100*0.7*float64(d.W)/math.Max(w100, 1), 0.12*float64(d.H))
		design.Lines = append(design.Lines, textrender.Line{Text: big, Font: f, Size: size, CX: float64(d.W) / 2, CY: float64(d.H) * 0.08, Colour: ink})
		d.Lines = append([]string{big}, d.Lines...)
		d.Fonts = append([]string{filepath.Base(f)}, d.Fonts...)
		// Keep the small line clear of the title.
		last := &design.Lines[0]
		last.CY = math.Max(last.CY, float64(d.H)*0.25)
	}
	if skip {
		// Draw what rendering would have drawn from rng, so the designs
		// after this one are the same as in a full set.
		if !transparent && rng.IntN(10) < 3 {
			rng.IntN(15)
		}
		return nil
	}
	img, err := textrender.Render(design)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	d.Format = "png"
	if !transparent && rng.IntN(10) < 3 {
		d.Format = "jpeg"
		err = jpeg.Encode(&buf, flatten(img), &jpeg.Options{Quality: 80 + rng.IntN(15)})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	}
	if err != nil {
		return err
	}
	d.Data = buf.Bytes()
	return nil
}

func flatten(img *image.NRGBA) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		a := uint32(img.Pix[i+3])
		for k := 0; k < 3; k++ {
			out.Pix[i+k] = uint8((uint32(img.Pix[i+k])*a + 255*(255-a)) / 255)
		}
		out.Pix[i+3] = 255
	}
	return out
}
