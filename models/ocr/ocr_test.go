package ocr_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/internal/textrender"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/ocr"
)

var (
	engOnce sync.Once
	eng     *ocr.Engine
	engErr  error
	engRT   *models.Runtime
	engDir  string
)

// engine opens one engine for the package's tests on the real models.
func engine(t *testing.T) *ocr.Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the OCR models and ONNX Runtime (not in -short)")
	}
	engOnce.Do(func() {
		env, err := modeltest.Open(context.Background())
		if err != nil {
			engErr = err
			return
		}
		cache := npmfetch.DefaultCacheDir(os.Getenv)
		if !filepath.IsAbs(cache) {
			cache = filepath.Join(env.Root, cache)
		}
		dir := filepath.Join(env.Root, models.DefaultModelsDir)
		if _, err := ocr.Install(context.Background(), cache, dir); err != nil {
			engErr = err
			return
		}
		engRT, engDir = env.Runtime, dir
		eng, engErr = ocr.Open(env.Runtime, ocr.Config{ModelsDir: dir})
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return eng
}

var (
	black = color.NRGBA{20, 20, 20, 255}
	white = color.NRGBA{250, 250, 250, 255}
)

func render(t *testing.T, d textrender.Design) *image.NRGBA {
	t.Helper()
	for i := range d.Lines {
		if d.Lines[i].Font == "" {
			d.Lines[i].Font = textrender.DefaultFont
		}
	}
	img, err := textrender.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("MUSTER_OCR_DUMP"); dir != "" {
		f, _ := os.Create(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png"))
		_ = png.Encode(f, img)
		f.Close()
	}
	return img
}

// TestReadsDesigns reads the styles designs come in: straight, rotated,
// arched over and under, outlined, distressed, light on dark, transparent
// with white letters, two lines in different fonts, upside down.
func TestReadsDesigns(t *testing.T) {
	t.Parallel()
	e := engine(t)
	line := func(text string, size, cx, cy float64) textrender.Line {
		return textrender.Line{Text: text, Size: size, CX: cx, CY: cy, Colour: black}
	}
	tests := []struct {
		name   string
		design textrender.Design
		want   []string // words that must be read
		curved bool
	}{
		{"straight", textrender.Design{W: 800, H: 600, Background: white, Lines: []textrender.Line{line("JUST DO IT", 90, 400, 300)}}, []string{"JUST", "DO", "IT"}, false},
		{"rotated 20", textrender.Design{W: 800, H: 800, Background: white, Lines: []textrender.Line{func() textrender.Line { l := line("GOOD VIBES", 90, 400, 400); l.Angle = 20; return l }()}}, []string{"GOOD", "VIBES"}, false},
		{"arched over", textrender.Design{W: 1000, H: 800, Background: white, Lines: []textrender.Line{func() textrender.Line { l := line("SUMMER CAMP CREW", 80, 500, 250); l.Arc = 420; return l }()}}, []string{"SUMMER", "CAMP", "CREW"}, true},
		{"arched under", textrender.Design{W: 1000, H: 800, Background: white, Lines: []textrender.Line{func() textrender.Line { l := line("BORN TO RIDE", 80, 500, 500); l.Arc = -400; return l }()}}, []string{"BORN", "TO", "RIDE"}, true},
		{"outlined", textrender.Design{W: 900, H: 500, Background: white, Lines: []textrender.Line{func() textrender.Line {
			l := line("HOLLOW", 150, 450, 250)
			l.Outline = 6
			return l
		}()}}, []string{"HOLLOW"}, false},
		{"distressed", textrender.Design{W: 900, H: 500, Background: white, Seed: 3, Lines: []textrender.Line{func() textrender.Line {
			l := line("VINTAGE", 150, 450, 250)
			l.Distress = 0.2
			return l
		}()}}, []string{"VINTAGE"}, false},
		{"light on dark", textrender.Design{W: 800, H: 500, Background: color.NRGBA{15, 25, 60, 255}, Lines: []textrender.Line{func() textrender.Line {
			l := line("NIGHT OWL", 100, 400, 250)
			l.Colour = color.NRGBA{240, 230, 120, 255}
			return l
		}()}}, []string{"NIGHT", "OWL"}, false},
		{"white on transparent", textrender.Design{W: 800, H: 500, Lines: []textrender.Line{func() textrender.Line {
			l := line("GHOST", 120, 400, 250)
			l.Colour = color.NRGBA{255, 255, 255, 255}
			return l
		}()}}, []string{"GHOST"}, false},
		{"two lines two fonts", textrender.Design{W: 900, H: 700, Background: white, Lines: []textrender.Line{
			line("COFFEE", 110, 450, 230),
			func() textrender.Line {
				l := line("then everything", 70, 450, 450)
				l.Font = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf"
				return l
			}(),
		}}, []string{"COFFEE", "then", "everything"}, false},
		{"upside down", textrender.Design{W: 800, H: 500, Background: white, Lines: []textrender.Line{func() textrender.Line { l := line("FLIPPED", 110, 400, 250); l.Angle = 180; return l }()}}, []string{"FLIPPED"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := render(t, tc.design)
			res, err := e.Read(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			text := res.Text()
			t.Logf("read %q (det %v, cls %v, rec %v)", text, res.Detect, res.Classify, res.Recognize)
			for _, w := range tc.want {
				if !strings.Contains(strings.ToUpper(text), strings.ToUpper(w)) {
					t.Errorf("did not read %q in %q", w, text)
				}
			}
			curved := false
			for _, l := range res.Lines {
				curved = curved || l.Curved
			}
			if tc.curved && !curved {
				t.Errorf("arched text was not followed as a curve: %+v", res.Lines)
			}
		})
	}
}

// TestPrintFileSmallText reads a 4500×5400 print file with a large title
// and a small line in a corner (60 px letters, 1 % of the height): the
// whole-image pass sees the title, the high-resolution pass the small line.
func TestPrintFileSmallText(t *testing.T) {
	t.Parallel()
	e := engine(t)
	img := render(t, textrender.Design{W: 4500, H: 5400, Background: white, Lines: []textrender.Line{
		{Text: "MOUNTAIN CLUB", Size: 420, CX: 2250, CY: 2000, Colour: black},
		{Text: "established nineteen", Size: 60, CX: 3700, CY: 5000, Colour: black},
	}})
	res, err := e.Read(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	text := res.Text()
	t.Logf("read %q in %v (det %v, rec %v), %d regions", text, res.Detect+res.Classify+res.Recognize, res.Detect, res.Recognize, res.Regions)
	for _, w := range []string{"MOUNTAIN", "CLUB", "established", "nineteen"} {
		if !strings.Contains(text, w) {
			t.Errorf("did not read %q in %q", w, text)
		}
	}
}

// TestReadsTightArcs reads short codes set over a large part of a small
// circle, as merchants set them and eval-text's arched style does: the
// letters lean by tens of degrees either way, and detection finds one
// thick band whose slices barely turn, or one square region a digit.
// Each must be read exactly (the matcher takes codes as written). (On a
// smile this tight the letters' tops run into one another: not read yet.)
func TestReadsTightArcs(t *testing.T) {
	t.Parallel()
	e := engine(t)
	const regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	tests := []struct {
		name, text, font string
		// span is the angle (degrees) the line covers; negative: a smile.
		span float64
	}{
		{"88 rainbow", "88", regular, 120},
		{"18 rainbow", "18", regular, 130},
		{"ZOG rainbow", "ZOG", regular, 110},
		{"14/88 rainbow", "14/88", regular, 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const size = 300
			w100, _, err := textrender.Measure(tc.font, tc.text, 100)
			if err != nil {
				t.Fatal(err)
			}
			radius := w100 * size / 100 / (math.Abs(tc.span) * math.Pi / 180)
			if tc.span < 0 {
				radius = -radius
			}
			img := render(t, textrender.Design{W: 1200, H: 1200, Background: white, Lines: []textrender.Line{
				{Text: tc.text, Font: tc.font, Size: size, CX: 600, CY: 600, Arc: radius, Colour: black},
			}})
			res, err := e.Read(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(res.Text()), " "); got != tc.text {
				t.Errorf("read %q, want %q (lines %+v)", res.Text(), tc.text, res.Lines)
			}
		})
	}
}

// TestInstallRefusesAlteredModels: a model file that no longer matches
// its pin is not loaded.
func TestInstallRefusesAlteredModels(t *testing.T) {
	t.Parallel()
	engine(t) // installs into var/models
	root, _ := filepath.Abs("../..")
	src := filepath.Join(root, models.DefaultModelsDir, ocr.ModelName)
	dir := filepath.Join(t.TempDir(), ocr.ModelName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "ppocr_keys_v1.txt" {
			b = append(b, 'x')
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ocr.LoadManifest(dir); !errors.Is(err, models.ErrModelNotInstalled) {
		t.Fatalf("altered dictionary: %v, want ErrModelNotInstalled", err)
	}
	if _, err := ocr.LoadManifest(src); err != nil {
		t.Fatalf("installed models: %v", err)
	}
}

// TestParallelReadsSame: Read's Go work on several goroutines (banded
// resizing, rectification in blocks of columns) reads exactly what it
// reads on one: the same lines, scores and polygons, on a print file with
// small text, arched, rotated, transparent and distressed designs.
func TestParallelReadsSame(t *testing.T) {
	t.Parallel()
	engine(t)
	// The parallel engine's ONNX Runtime threads do not spin, and it
	// reads through ReadImage (the decoder's HasAlpha trusted), twice (the
	// second read reuses its pooled buffers).
	open := func(par int) *ocr.Engine {
		e, err := ocr.Open(engRT, ocr.Config{ModelsDir: engDir, Parallel: par, Pool: models.PoolConfig{NoSpinning: par > 1}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	seq, par := open(1), open(3)
	line := func(text string, size, cx, cy float64) textrender.Line {
		return textrender.Line{Text: text, Size: size, CX: cx, CY: cy, Colour: black}
	}
	designs := map[string]textrender.Design{
		"print file": {W: 4500, H: 5400, Background: white, Noise: 0.3, Seed: 5, Lines: []textrender.Line{
			line("MOUNTAIN CLUB", 420, 2250, 900), line("established nineteen", 60, 3300, 4700),
			func() textrender.Line { l := line("ROUND THE BEND", 300, 2250, 2800); l.Arc = 1600; return l }(),
		}},
		"arched and rotated": {W: 1200, H: 1200, Background: white, Lines: []textrender.Line{
			func() textrender.Line { l := line("SUMMER CAMP CREW", 90, 600, 350); l.Arc = 500; return l }(),
			func() textrender.Line { l := line("GOOD VIBES", 80, 600, 850); l.Angle = 25; return l }(),
		}},
		"transparent distressed": {W: 1000, H: 1000, Seed: 9, Lines: []textrender.Line{
			func() textrender.Line { l := line("VINTAGE", 150, 500, 500); l.Distress = 0.2; return l }(),
		}},
	}
	for name, d := range designs {
		img := render(t, d)
		want, err := seq.Read(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := par.ReadImage(context.Background(), &imaging.Image{NRGBA: img, HasAlpha: !img.Opaque()})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Lines, want.Lines) || got.Regions != want.Regions {
				t.Errorf("%s: ReadImage on 3 goroutines read %+v, Read on one %+v", name, got.Lines, want.Lines)
			}
		}
		got, err := par.Read(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Lines) == 0 {
			t.Errorf("%s: read nothing", name)
		}
		if !reflect.DeepEqual(got.Lines, want.Lines) || got.Regions != want.Regions {
			t.Errorf("%s: on 3 goroutines read %+v, on one %+v", name, got.Lines, want.Lines)
		}
		t.Logf("%s: %q; one goroutine %v, three %v", name, want.Text(), want.Detect+want.Classify+want.Recognize, got.Detect+got.Classify+got.Recognize)
	}
}
