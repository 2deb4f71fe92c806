package match_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
)

// A reference is added once; Find then locates it inside a larger design,
// here turned 90° and recoloured on a coloured background.
func Example() {
	m, err := match.New(match.Config{})
	if err != nil {
		panic(err)
	}
	z := symbols.All()[9] // the "Z" war symbol
	if err := m.Add(z.ID, match.MaskFromAlpha(z.Draw(256)), 0); err != nil {
		panic(err)
	}
	design := image.NewNRGBA(image.Rect(0, 0, 1000, 800))
	draw.Draw(design, design.Rect, image.NewUniform(color.NRGBA{240, 200, 80, 255}), image.Point{}, draw.Src)
	mark := z.Draw(360)
	// draw it in dark blue, turned a quarter
	blue := image.NewNRGBA(image.Rect(0, 0, 360, 360))
	for y := 0; y < 360; y++ {
		for x := 0; x < 360; x++ {
			a := mark.NRGBAAt(x, y).A
			blue.SetNRGBA(y, 359-x, color.NRGBA{20, 30, 120, a})
		}
	}
	draw.Draw(design, blue.Rect.Add(image.Pt(500, 300)), blue, image.Point{}, draw.Over)
	found, _, err := m.Find(context.Background(), design)
	if err != nil {
		panic(err)
	}
	for _, f := range found {
		fmt.Println(f.Key, f.Dihedral&3 != 0)
	}
	// Output: z-symbol true
}
