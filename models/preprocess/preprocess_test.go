package preprocess

import (
	"image"
	"math"
	"math/rand/v2"
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

func TestResizeArea(t *testing.T) {
	t.Parallel()
	// A 6×4 image of 2×2 blocks: each output pixel of a 3×2 resize is its block's mean.
	src := Pixels{Pix: make([]uint8, 6*4*4), Stride: 6 * 4, Width: 6, Height: 4}
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			o := y*src.Stride + x*4
			src.Pix[o] = uint8((x/2)*100 + (x%2)*10)   // block mean (x/2)*100+5
			src.Pix[o+1] = uint8((y/2)*100 + (y%2)*20) // block mean (y/2)*100+10
			src.Pix[o+2] = 255
		}
	}
	dst := make([]float32, 3*2*3)
	if err := ResizeArea(dst, src, image.Rect(0, 0, 6, 4), 3, 2); err != nil {
		t.Fatal(err)
	}
	for oy := 0; oy < 2; oy++ {
		for ox := 0; ox < 3; ox++ {
			o := (oy*3 + ox) * 3
			want := [3]float32{float32(ox*100+5) / 255, float32(oy*100+10) / 255, 1}
			for k := range want {
				if d := dst[o+k] - want[k]; d > 1e-6 || d < -1e-6 {
					t.Fatalf("pixel %d,%d channel %d = %v, want %v", ox, oy, k, dst[o+k], want[k])
				}
			}
		}
	}
	// Fractional coverage: 5 → 2 pixels, weights sum to one.
	for _, w := range areaWeights(5, 2) {
		s := 0.0
		for _, tp := range w {
			s += tp.w
		}
		if s < 1-1e-9 || s > 1+1e-9 {
			t.Fatalf("weights %v sum to %v", w, s)
		}
	}
}

func TestBoxDownscale(t *testing.T) {
	t.Parallel()
	src := Pixels{Pix: make([]uint8, 5*3*4), Stride: 5 * 4, Width: 5, Height: 3}
	for i := 0; i < len(src.Pix); i += 4 {
		x, y := (i/4)%5, (i/4)/5
		src.Pix[i], src.Pix[i+1], src.Pix[i+2] = uint8(x*10), uint8(y*10), 7
	}
	got := BoxDownscale(src, 2)
	if got.Width != 3 || got.Height != 2 {
		t.Fatalf("size %dx%d, want 3x2", got.Width, got.Height)
	}
	// Block (1,0) covers x 2..3, y 0..1: R mean 25, G mean 5; the partial
	// block (2,1) covers x 4, y 2: R 40, G 20.
	check := func(x, y int, r, g uint8) {
		o := y*got.Stride + x*4
		if got.Pix[o] != r || got.Pix[o+1] != g || got.Pix[o+2] != 7 {
			t.Errorf("pixel %d,%d = %v, want %d %d 7", x, y, got.Pix[o:o+3], r, g)
		}
	}
	check(1, 0, 25, 5)
	check(2, 1, 40, 20)
	if BoxDownscale(src, 1).Width != 5 {
		t.Fatal("k=1 must return src")
	}
}

// resizeAreaRowByRow is ResizeArea as first written (every output row
// resizes the source rows it covers again); the separable version must give
// the same values bit for bit, so tile scores do not move.
func resizeAreaRowByRow(dst []float32, src Pixels, r image.Rectangle, outW, outH int) {
	xs, ys := areaWeights(r.Dx(), outW), areaWeights(r.Dy(), outH)
	row, acc := make([]float64, outW*3), make([]float64, outW*3)
	for oy, wy := range ys {
		clear(acc)
		for _, sy := range wy {
			so := (r.Min.Y+sy.i)*src.Stride + r.Min.X*4
			for ox, wx := range xs {
				var cr, cg, cb float64
				for _, sx := range wx {
					p := so + sx.i*4
					cr += float64(src.Pix[p]) * sx.w
					cg += float64(src.Pix[p+1]) * sx.w
					cb += float64(src.Pix[p+2]) * sx.w
				}
				row[ox*3], row[ox*3+1], row[ox*3+2] = cr, cg, cb
			}
			for k := range acc {
				acc[k] += row[k] * sy.w
			}
		}
		for k, v := range acc {
			dst[oy*outW*3+k] = float32(v / 255)
		}
	}
}

func TestResizeAreaSameAsRowByRow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	src := Pixels{Pix: make([]uint8, 500*420*4), Stride: 500 * 4, Width: 500, Height: 420}
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
	}
	for _, tc := range []struct {
		r          image.Rectangle
		outW, outH int
	}{{image.Rect(10, 20, 370, 380), 224, 224}, {image.Rect(0, 0, 500, 420), 299, 299}, {image.Rect(3, 5, 228, 230), 224, 224}} {
		got, want := make([]float32, tc.outW*tc.outH*3), make([]float32, tc.outW*tc.outH*3)
		if err := ResizeArea(got, src, tc.r, tc.outW, tc.outH); err != nil {
			t.Fatal(err)
		}
		resizeAreaRowByRow(want, src, tc.r, tc.outW, tc.outH)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v → %d×%d: value %d is %v, row by row %v", tc.r, tc.outW, tc.outH, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkResizeArea: one 1200² design's 360 px tile to 224 (the tiles'
// case at k = 1) and a block-averaged print file's 225 px tile.
func BenchmarkResizeArea(b *testing.B) {
	for _, tc := range []struct {
		name string
		side int
	}{{"360", 360}, {"225", 225}} {
		b.Run(tc.name, func(b *testing.B) {
			src := pixels(1200, 1200)
			dst := make([]float32, 224*224*3)
			for b.Loop() {
				_ = ResizeArea(dst, src, image.Rect(168, 336, 168+tc.side, 336+tc.side), 224, 224)
			}
		})
	}
}
