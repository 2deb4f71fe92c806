package bank

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/gofont/gosmallcaps"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// glyphRunes are the characters drawn as negative shapes.
const glyphRunes = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789&@$?!#%"

// glyphFonts are the Go fonts (BSD-licensed, compiled into
// golang.org/x/image): sans and slab-serif mono, four weights and slants.
var glyphFonts = []struct {
	name string
	ttf  []byte
}{
	{"goregular", goregular.TTF}, {"gobold", gobold.TTF}, {"goitalic", goitalic.TTF},
	{"gobolditalic", gobolditalic.TTF}, {"gomedium", gomedium.TTF}, {"gomono", gomono.TTF},
	{"gomonobold", gomonobold.TTF}, {"gosmallcaps", gosmallcaps.TTF},
}

// Glyph is one character of one font, drawn black on transparent.
type Glyph struct {
	Key string // "glyph:<font>:<char>"
	Img *image.NRGBA
}

// Glyphs draws the letters, digits and common signs of the Go fonts at
// size px: text is on most merchant designs, and a letter of a line of
// text is not a mark, so the negative bank holds them — a logo that is a
// single letter (a "B", an "S") is then not reported where a letter of
// the text explains the region as well (issue 14: text letters flagged
// as braintree, stripe and others on brand-free designs).
func Glyphs(size int) ([]Glyph, error) {
	var out []Glyph
	for _, f := range glyphFonts {
		ft, err := opentype.Parse(f.ttf)
		if err != nil {
			return nil, fmt.Errorf("glyphs %s: %w", f.name, err)
		}
		face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return nil, fmt.Errorf("glyphs %s: %w", f.name, err)
		}
		for _, r := range glyphRunes {
			b, _, ok := face.GlyphBounds(r)
			if !ok {
				continue
			}
			w, h := (b.Max.X-b.Min.X).Ceil()+4, (b.Max.Y-b.Min.Y).Ceil()+4
			if w < 4 || h < 4 {
				continue
			}
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			d := font.Drawer{Dst: img, Src: image.NewUniform(color.NRGBA{A: 255}), Face: face,
				Dot: fixed.Point26_6{X: fixed.I(2) - b.Min.X, Y: fixed.I(2) - b.Min.Y}}
			d.DrawString(string(r))
			out = append(out, Glyph{Key: "glyph:" + f.name + ":" + string(r), Img: img})
		}
		_ = face.Close()
	}
	return out, nil
}
