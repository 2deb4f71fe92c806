package imaging

import (
	"bytes"
	"image/color"
	"image/png"
	"os"
	"testing"

	"github.com/muster-dev/muster/internal/textrender"
)

// printFile renders a 4500×5400 print file like eval/text's (noisy
// background, a title and a small line) and encodes it as the generator
// does (PNG, BestSpeed).
func printFile(tb testing.TB, noise float64) []byte {
	tb.Helper()
	font := "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
	if _, err := os.Stat(font); err != nil {
		tb.Skip("no DejaVu font")
	}
	img, err := textrender.Render(textrender.Design{W: 4500, H: 5400, Background: color.NRGBA{240, 236, 228, 255}, Noise: noise, Seed: 3,
		Lines: []textrender.Line{
			{Text: "SUMMER CAMP CREW", Font: font, Size: 400, CX: 2250, CY: 500, Colour: color.NRGBA{20, 20, 60, 255}},
			{Text: "est. 1985 small print", Font: font, Size: 90, CX: 2250, CY: 3000, Colour: color.NRGBA{20, 20, 60, 255}},
		}})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodePrintFile times Decode of a 4500×5400 print file, plain
// and with a noisy background (a 35 MB PNG), against the path it replaced.
func BenchmarkDecodePrintFile(b *testing.B) {
	for _, noise := range []float64{0, 0.3} {
		data := printFile(b, noise)
		b.Run(map[float64]string{0: "plain", 0.3: "noisy"}[noise], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data, "", Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What Decode did before decodePNGFast: image/png, toNRGBA, opaque.
		b.Run(map[float64]string{0: "plain", 0.3: "noisy"}[noise]+"/imagepng", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := viaImagePNG(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
