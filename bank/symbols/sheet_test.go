package symbols

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"testing"
)

func TestSheet(t *testing.T) {
	if os.Getenv("SYMBOL_SHEET") == "" {
		t.Skip("set SYMBOL_SHEET=file.png to write a contact sheet")
	}
	all := All()
	sheet := image.NewNRGBA(image.Rect(0, 0, 200*len(all), 200))
	draw.Draw(sheet, sheet.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, s := range all {
		draw.Draw(sheet, image.Rect(i*200, 0, i*200+200, 200), s.Draw(200), image.Point{}, draw.Over)
	}
	f, _ := os.Create(os.Getenv("SYMBOL_SHEET"))
	defer f.Close()
	png.Encode(f, sheet)
}
