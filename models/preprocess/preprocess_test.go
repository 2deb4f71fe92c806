package preprocess

import (
	"image"
	"math"
	"testing"
)

func pixels(w, h int) Pixels {
	p := Pixels{Pix: make([]uint8, w*h*4), Stride: w * 4, Width: w, Height: h}
	for i := range p.Pix {
		p.Pix[i] = uint8(i * 7 % 251)
	}
	return p
}

func TestResizeBilinear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		w, h int
		r    image.Rectangle
	}{
		{"identity size copies", 224, 224, image.Rect(0, 0, 224, 224)},
		{"downscale", 1000, 700, image.Rect(0, 0, 1000, 700)},
		{"upscale", 31, 17, image.Rect(0, 0, 31, 17)},
		{"crop", 900, 900, image.Rect(300, 450, 700, 850)},
		{"single pixel", 1, 1, image.Rect(0, 0, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := pixels(tt.w, tt.h)
			dst := make([]float32, 224*224*3)
			if err := ResizeBilinear(dst, src, tt.r, 224, 224, true); err != nil {
				t.Fatal(err)
			}
			// Aligned corners: the output corners are exactly the region's corners.
			at := func(x, y, c int) float32 { return float32(float64(src.Pix[y*src.Stride+x*4+c]) / 255) }
			corners := [][4]int{{0, 0, tt.r.Min.X, tt.r.Min.Y}, {223, 0, tt.r.Max.X - 1, tt.r.Min.Y}, {0, 223, tt.r.Min.X, tt.r.Max.Y - 1}, {223, 223, tt.r.Max.X - 1, tt.r.Max.Y - 1}}
			for _, c := range corners {
				for ch := 0; ch < 3; ch++ {
					if got, want := dst[(c[1]*224+c[0])*3+ch], at(c[2], c[3], ch); got != want {
						t.Fatalf("corner %v channel %d = %v, want %v", c, ch, got, want)
					}
				}
			}
			for _, v := range dst {
				if v < 0 || v > 1 || math.IsNaN(float64(v)) {
					t.Fatalf("value %v outside 0..1", v)
				}
			}
		})
	}
	if err := ResizeBilinear(make([]float32, 3), pixels(4, 4), image.Rect(5, 5, 9, 9), 1, 1, true); err != ErrEmptyRegion {
		t.Fatalf("region outside the image: %v", err)
	}
}

func BenchmarkResizeBilinear(b *testing.B) {
	src := pixels(1000, 700)
	dst := make([]float32, 224*224*3)
	for b.Loop() {
		_ = ResizeBilinear(dst, src, image.Rect(0, 0, 1000, 700), 224, 224, true)
	}
}
