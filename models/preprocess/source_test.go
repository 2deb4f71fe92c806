package preprocess

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/muster-dev/muster/internal/imaging"
)

// resizeBilinearReference is ResizeBilinear as it was before its sampling
// was split into plans (session 5), kept to show the split changed no value.
func resizeBilinearReference(dst []float32, src Pixels, r image.Rectangle, outW, outH int, alignCorners bool) {
	inW, inH := r.Dx(), r.Dy()
	effIn := [2]float64{float64(inH), float64(inW)}
	effOut := [2]float64{float64(outH), float64(outW)}
	if alignCorners && outH > 1 {
		effIn[0], effOut[0] = float64(inH-1), float64(outH-1)
	}
	if alignCorners && outW > 1 {
		effIn[1], effOut[1] = float64(inW-1), float64(outW-1)
	}
	rowRatio, colRatio := effIn[0]/effOut[0], effIn[1]/effOut[1]
	i := 0
	for rr := 0; rr < outH; rr++ {
		f := rowRatio * float64(rr)
		top := int(math.Max(0, math.Floor(f)))
		rowFrac := f - float64(top)
		bot := min(inH-1, int(math.Ceil(f)))
		for c := 0; c < outW; c++ {
			g := colRatio * float64(c)
			lo := int(math.Max(0, math.Floor(g)))
			hi := min(inW-1, int(math.Ceil(g)))
			frac := g - float64(lo)
			at := func(x, y, d int) float64 {
				return unit64[src.Pix[(r.Min.Y+y)*src.Stride+(r.Min.X+x)*4+d]]
			}
			for d := 0; d < 3; d++ {
				t := at(lo, top, d) + (at(hi, top, d)-at(lo, top, d))*frac
				bo := at(lo, bot, d) + (at(hi, bot, d)-at(lo, bot, d))*frac
				dst[i] = float32(t + (bo-t)*rowFrac)
				i++
			}
		}
	}
}

// alphaImage is a design with transparent, opaque and half-transparent
// pixels (and a sub-image origin off 0, 0 when offset).
func alphaImage(w, h int, seed uint64, offset bool) *imaging.Image {
	rng := rand.New(rand.NewPCG(seed, 9))
	img := image.NewNRGBA(image.Rect(0, 0, w+3, h+2))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		switch rng.IntN(3) {
		case 0:
			img.Pix[i] = 0
		case 1:
			img.Pix[i] = 255
		}
	}
	sub := img.SubImage(image.Rect(0, 0, w, h)).(*image.NRGBA)
	if offset {
		sub = img.SubImage(image.Rect(3, 2, w+3, h+2)).(*image.NRGBA)
	}
	return &imaging.Image{MediaType: imaging.MediaPNG, NRGBA: sub, HasAlpha: true, Orientation: 1}
}

// TestWholeSameAsFlattenAndResize: the whole-design tensor is bit for bit
// what FromImage (a flattened copy) and ResizeBilinear give — the parity
// test's path — for transparent and opaque designs of every shape.
func TestWholeSameAsFlattenAndResize(t *testing.T) {
	t.Parallel()
	bgs := []color.Color{color.White, color.Black, color.NRGBA{200, 100, 50, 255}}
	for _, tc := range []struct {
		w, h   int
		alpha  bool
		offset bool
	}{
		{1000, 700, true, false}, {700, 1000, true, true}, {224, 224, true, false}, {224, 224, false, false},
		{31, 17, true, false}, {1, 1, true, false}, {1200, 1200, false, true}, {225, 3000, true, false},
	} {
		for bi, bg := range bgs {
			im := alphaImage(tc.w, tc.h, uint64(tc.w*tc.h+bi), tc.offset)
			im.HasAlpha = tc.alpha
			want := make([]float32, 224*224*3)
			px := FromImage(im, bg)
			if err := ResizeBilinear(want, px, image.Rect(0, 0, px.Width, px.Height), 224, 224, true); err != nil {
				t.Fatal(err)
			}
			ref := make([]float32, 224*224*3)
			if tc.w != 224 || tc.h != 224 {
				resizeBilinearReference(ref, px, image.Rect(0, 0, px.Width, px.Height), 224, 224, true)
				for i := range ref {
					if ref[i] != want[i] {
						t.Fatalf("%dx%d: ResizeBilinear value %d = %v, the unsplit kernel gives %v", tc.w, tc.h, i, want[i], ref[i])
					}
				}
			}
			got := make([]float32, 224*224*3)
			if err := NewSource(im, bg).Whole(got, 224, 224, true); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%dx%d alpha %v bg %d: value %d = %v, want %v", tc.w, tc.h, tc.alpha, bi, i, got[i], want[i])
				}
			}
		}
	}
}

// TestOpaqueAndBoxDownscaleSameAsFlattened: the composited pixels and
// their block averages are the bytes FromImage's flattened copy gives, so
// tiles cut from them are bit-identical to before.
func TestOpaqueAndBoxDownscaleSameAsFlattened(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h   int
		alpha  bool
		k      int
		blocks image.Rectangle
	}{
		{300, 200, true, 1, image.Rect(0, 0, 300, 200)},
		{300, 200, false, 1, image.Rect(10, 20, 200, 90)},
		{1000, 700, true, 6, image.Rect(0, 0, 1000, 1000)},
		{1003, 701, true, 4, image.Rect(30, 17, 251, 176)},
		{1003, 701, false, 3, image.Rect(0, 100, 400, 400)},
		// Large enough to be averaged in bands on several goroutines.
		{3000, 2800, true, 6, image.Rect(0, 0, 500, 500)},
		{3001, 2803, false, 5, image.Rect(0, 0, 700, 700)},
	} {
		for bi, bg := range []color.Color{color.White, color.NRGBA{200, 100, 50, 255}} {
			im := alphaImage(tc.w, tc.h, uint64(tc.w+tc.k), true)
			im.HasAlpha = tc.alpha
			src := NewSource(im, bg)
			flat := FromImage(im, bg)
			op := src.Opaque()
			for y := 0; y < tc.h; y++ {
				for x := 0; x < tc.w*4; x++ {
					if x%4 != 3 && op.Pix[y*op.Stride+x] != flat.Pix[y*flat.Stride+x] {
						t.Fatalf("%dx%d alpha %v bg %d: Opaque differs at %d,%d", tc.w, tc.h, tc.alpha, bi, x/4, y)
					}
				}
			}
			want := BoxDownscale(flat, tc.k)
			got := src.BoxDownscale(tc.k, tc.blocks)
			br := tc.blocks.Intersect(image.Rect(0, 0, want.Width, want.Height))
			if got.Width != br.Dx() || got.Height != br.Dy() {
				t.Fatalf("k %d blocks %v: got %dx%d, want %v", tc.k, tc.blocks, got.Width, got.Height, br)
			}
			for y := 0; y < br.Dy(); y++ {
				for x := 0; x < br.Dx()*4; x++ {
					if x%4 != 3 && got.Pix[y*got.Stride+x] != want.Pix[(br.Min.Y+y)*want.Stride+br.Min.X*4+x] {
						t.Fatalf("%dx%d alpha %v bg %d k %d: block %d,%d differs", tc.w, tc.h, tc.alpha, bi, tc.k, x/4, y)
					}
				}
			}
		}
	}
}
