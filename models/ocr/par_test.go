package ocr

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
)

func randomRaster(rng *rand.Rand, w, h int, alpha bool) *raster {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if !alpha || rng.IntN(3) > 0 {
			img.Pix[i] = 0xff
		}
	}
	return newRaster(img)
}

// TestResizeSameOnAnyGoroutines: the banded resampling gives the same
// bits on 1, 2, 3 and 8 goroutines, shrinking and enlarging, opaque and
// transparent, and from float RGB (a print file's whole pass).
func TestResizeSameOnAnyGoroutines(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		w, h, tw, th int
		alpha        bool
	}{{450, 540, 192, 224, false}, {450, 540, 192, 224, true}, {300, 200, 608, 416, false}, {97, 61, 64, 32, true}, {640, 640, 640, 640, false}, {333, 401, 96, 800, false}} {
		r := randomRaster(rng, c.w, c.h, c.alpha)
		full := image.Rect(0, 0, c.w, c.h)
		want := r.resize(full, c.tw, c.th, 1, nil)
		wantRGB := resizeRGB(want, c.tw, c.th, c.tw/2+1, c.th/3+1, 1, nil)
		for _, par := range []int{2, 3, 8} {
			if got := r.resize(full, c.tw, c.th, par, nil); !slices.Equal(got, want) {
				t.Errorf("%v par %d: resize differs from one goroutine's", c, par)
			}
			if got := resizeRGB(want, c.tw, c.th, c.tw/2+1, c.th/3+1, par, nil); !slices.Equal(got, wantRGB) {
				t.Errorf("%v par %d: resizeRGB differs from one goroutine's", c, par)
			}
		}
	}
}

// TestRectifyAllSameAsOneByOne: strips sampled in blocks of columns on
// several goroutines are the strips rectify makes one by one (straight,
// rotated, curved, small text enlarged, large text averaged 8×8).
func TestRectifyAllSameAsOneByOne(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	src := randomRaster(rng, 1500, 1200, false)
	var arc []pt
	for a := 0.0; a <= math.Pi/2; a += math.Pi / 20 {
		arc = append(arc, pt{700 + 500*math.Cos(math.Pi+a), 900 - 500*math.Sin(a)})
	}
	regs := []region{
		{line: []pt{{100, 100}, {900, 100}}, half: 20},
		{line: []pt{{100, 300}, {1400, 700}}, half: 200},  // averaged 5×5 (k = ceil(400/48))
		{line: []pt{{50, 1000}, {1450, 1000}}, half: 300}, // 8×8, squeezed to maxStripWidth
		{line: []pt{{300, 500}, {340, 510}}, half: 4},
		{line: arc, half: 40, curved: true},
	}
	want := make([]strip, len(regs))
	for i, r := range regs {
		want[i] = rectify(src, r.line, r.half, recHeight).stretch()
	}
	for _, par := range []int{1, 2, 5} {
		got := rectifyAll(src, regs, recHeight, par)
		for i := range got {
			if got[i].w != want[i].w || got[i].h != want[i].h || !slices.Equal(got[i].rgb, want[i].rgb) {
				t.Errorf("par %d region %d: strip differs from rectify's", par, i)
			}
		}
	}
}

// TestOpaqueRow: a row is opaque exactly when every alpha byte is 0xff,
// wherever the one translucent pixel is (odd and even pixels, the tail).
func TestOpaqueRow(t *testing.T) {
	t.Parallel()
	for _, w := range []int{1, 2, 3, 7, 8, 9} {
		row := make([]uint8, 4*w)
		for i := range row {
			row[i] = 0xff
		}
		if !opaqueRow(row) {
			t.Errorf("width %d: an opaque row reads as translucent", w)
		}
		for x := 0; x < w; x++ {
			for _, a := range []uint8{0, 0xfe} {
				row[4*x+3] = a
				if opaqueRow(row) {
					t.Errorf("width %d: alpha %d at pixel %d missed", w, a, x)
				}
				row[4*x+3] = 0xff
			}
			row[4*x] = 0 // colour bytes do not matter
			if !opaqueRow(row) {
				t.Errorf("width %d: a colour byte read as alpha", w)
			}
		}
	}
}

// TestForEachRaisesPanicOnCaller: a panic in one of forEach's calls
// reaches the caller's goroutine (where the worker recovers it) after
// every call has returned, instead of ending the process.
func TestForEachRaisesPanicOnCaller(t *testing.T) {
	t.Parallel()
	var done atomic.Int64
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
		if done.Load() != 99 {
			t.Errorf("%d calls returned before the panic was raised, want 99", done.Load())
		}
	}()
	forEach(4, 100, func(i int) {
		if i == 37 {
			panic("boom")
		}
		done.Add(1)
	})
	t.Error("forEach returned")
}
