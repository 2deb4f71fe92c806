package imaging

import (
	"bytes"
	"image"
	"image/draw"
	"math/rand/v2"
	"testing"
)

// TestToNRGBAFastPaths: the row-by-row conversions of RGBA and YCbCr give
// exactly draw.Draw's pixels (every alpha, invalid premultiplied values,
// every chroma subsampling, sub-images not at the origin).
func TestToNRGBAFastPaths(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	viaDraw := func(img image.Image) *image.NRGBA {
		b := img.Bounds()
		out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(out, out.Rect, img, b.Min, draw.Src)
		return out
	}
	var cases []struct {
		name string
		img  image.Image
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 67, 41))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(rgba.Pix); i += 4 {
		switch rng.IntN(4) {
		case 0:
			rgba.Pix[i] = 0xff
		case 1:
			rgba.Pix[i] = 0
		}
	}
	cases = append(cases, struct {
		name string
		img  image.Image
	}{"rgba", rgba}, struct {
		name string
		img  image.Image
	}{"rgba sub-image", rgba.SubImage(image.Rect(5, 3, 60, 40))})
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		y := image.NewYCbCr(image.Rect(0, 0, 53, 37), ratio)
		for _, p := range [][]uint8{y.Y, y.Cb, y.Cr} {
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
		}
		cases = append(cases, struct {
			name string
			img  image.Image
		}{"ycbcr " + ratio.String(), y}, struct {
			name string
			img  image.Image
		}{"ycbcr sub-image " + ratio.String(), y.SubImage(image.Rect(3, 5, 50, 36))})
	}
	for _, tc := range cases {
		got, want := toNRGBA(tc.img), viaDraw(tc.img)
		if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: fast path differs from draw.Draw", tc.name)
		}
	}
}
