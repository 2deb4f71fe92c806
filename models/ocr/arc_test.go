package ocr

import (
	"image/color"
	"math"
	"testing"

	"github.com/muster-dev/muster/internal/textrender"
)

// TestTightArcGlyphCrops: a code on a tight rainbow, given as detection
// finds it (one straight box around it), becomes one curved region whose
// letters are cropped upright, each leaning the way its letter leans; the
// same code set straight, or in a straight box rotated by 20°, is left
// as it was.
func TestTightArcGlyphCrops(t *testing.T) {
	t.Parallel()
	const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	const size = 300
	w100, _, err := textrender.Measure(font, "88", 100)
	if err != nil {
		t.Fatal(err)
	}
	tight := w100 * size / 100 / (120 * math.Pi / 180)
	tests := []struct {
		name       string
		arc, angle float64
		curved     bool
	}{
		{"tight rainbow", tight, 0, true},
		{"straight", 0, 0, false},
		{"rotated", 0, 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, err := textrender.Render(textrender.Design{W: 1200, H: 1200, Background: color.NRGBA{250, 250, 250, 255}, Lines: []textrender.Line{
				{Text: "88", Font: font, Size: size, CX: 600, CY: 600, Arc: tc.arc, Angle: tc.angle, Colour: color.NRGBA{20, 20, 20, 255}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			// Detection's box: around the ink, along the line's angle.
			a := tc.angle * math.Pi / 180
			dir := pt{math.Cos(a), math.Sin(a)}
			box := region{line: []pt{pt{600, 600}.sub(dir.mul(260)), pt{600, 600}.add(dir.mul(260))}, half: 230, score: 0.9}
			regs := tightArcs(newRaster(img), []region{box})
			if len(regs) != 1 {
				t.Fatalf("%d regions, want 1", len(regs))
			}
			r := regs[0]
			if r.curved != tc.curved {
				t.Fatalf("curved %v, want %v", r.curved, tc.curved)
			}
			if !tc.curved {
				return
			}
			if len(r.glyphs) != 2 {
				t.Fatalf("%d letter crops, want 2", len(r.glyphs))
			}
			// The letters lean apart: the first crop's direction turns
			// clockwise to the second's by tens of degrees.
			if turn := math.Asin(r.glyphs[0].t.cross(r.glyphs[1].t)) * 180 / math.Pi; turn < 20 {
				t.Errorf("letter crops turn by %.1f°, want 20° or more clockwise", turn)
			}
		})
	}
}

// TestLetterSpaces: the space between glyph crops of a tight arc keeps a
// word space (a gap wide and well over the code's letter gaps) and puts
// every other gap at most 0.3 text heights wide, so a code whose narrow
// "1" stands apart on the arc is read as one word ("14", not "1 4").
func TestLetterSpaces(t *testing.T) {
	t.Parallel()
	const ht = 100.0
	tests := []struct {
		name string
		gaps []float64
		want []float64
	}{
		{"two letters far apart", []float64{80}, []float64{30}},
		{"two letters touching", []float64{-5}, []float64{6}},
		{"a word space among letter gaps", []float64{10, 12, 70, 9, 11}, []float64{10, 12, 70, 9, 11}},
		{"even gaps, all wide", []float64{60, 62, 58}, []float64{30, 30, 30}},
		{"a very wide word space", []float64{10, 150, 12}, []float64{10, 100, 12}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := letterSpaces(tc.gaps, ht)
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-9 {
					t.Fatalf("letterSpaces(%v) = %v, want %v", tc.gaps, got, tc.want)
				}
			}
		})
	}
}
