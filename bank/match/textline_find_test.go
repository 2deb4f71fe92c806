package match_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/muster-dev/muster/bank/match"
)

// drawText draws s in Go Bold at px with its baseline at (x, y).
func drawText(t *testing.T, dst draw.Image, s string, px float64, x, y int, c color.Color) {
	t.Helper()
	ft, err := opentype.Parse(gobold.TTF)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	d := &font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// TestTextLetterNotALogo: a single-letter logo (an S) is found where it
// stands alone, and not in the words of the design's text, set in the
// very same font (match-9, inTextLine).
func TestTextLetterNotALogo(t *testing.T) {
	t.Parallel()
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ref := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	drawText(t, ref, "S", 280, 40, 250, color.Black)
	if err := m.Add("s-logo", match.MaskFromAlpha(ref), 0); err != nil {
		t.Fatal(err)
	}
	white := solid(color.NRGBA{255, 255, 255, 255})
	ink := color.NRGBA{20, 30, 120, 255}

	text := canvas(1200, 1200, white)
	drawText(t, text, "SUNSETS", 150, 60, 300, ink)
	drawText(t, text, "SEASIDE", 150, 60, 700, ink)
	got, _, err := m.Find(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		t.Errorf("text only: found %s at %v", f.Key, f.Box)
	}

	logo := canvas(1200, 1200, white)
	drawText(t, logo, "SUNSETS", 150, 60, 300, ink)
	drawText(t, logo, "S", 450, 500, 1050, ink)
	got, _, err = m.Find(context.Background(), logo)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "s-logo" || got[0].Box.Min.Y < 600 {
		t.Errorf("text and a lone S: found %+v, want s-logo once below y=600", got)
	}
}
