package preprocess

import (
	"image"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestAreaTilesSameAsResizeArea: AreaTiles gives ResizeArea's values bit
// for bit, for tile grids walked column by column (the rows shared), row
// by row and in random order, for regions of varying sizes, and for
// regions clipped at the edges.
func TestAreaTilesSameAsResizeArea(t *testing.T) {
	t.Parallel()
	src := pixels(1000, 1300)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
	}
	grid := func(side, stride int, colMajor bool) []image.Rectangle {
		var out []image.Rectangle
		for a := 0; a+side <= 1300; a += stride {
			for b := 0; b+side <= 1000; b += stride {
				x, y := b, a
				if colMajor {
					x, y = a, b
				}
				if x+side <= 1000 && y+side <= 1300 {
					out = append(out, image.Rect(x, y, x+side, y+side))
				}
			}
		}
		return out
	}
	random := make([]image.Rectangle, 60)
	for i := range random {
		x, y := rng.IntN(1000), rng.IntN(1300)
		random[i] = image.Rect(x, y, x+100+rng.IntN(300), y+100+rng.IntN(300)) // some run over the edge
	}
	column := make([]image.Rectangle, 80) // one column, up and down
	for i := range column {
		y := rng.IntN(1000)
		column[i] = image.Rect(100, y, 400, y+300)
	}
	for _, tc := range []struct {
		name       string
		rects      []image.Rectangle
		outW, outH int
	}{
		{"columns 360/168", grid(360, 168, true), 224, 224},
		{"rows 360/168", grid(360, 168, false), 224, 224},
		{"columns 225/112 to 224", grid(225, 112, true), 224, 224},
		{"columns 300/150 to 299", grid(300, 150, true), 299, 299},
		{"random", random, 224, 224},
		{"one column, random order", column, 224, 224},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := NewAreaTiles(src, tc.outW, tc.outH)
			defer at.Release()
			got := make([]float32, tc.outW*tc.outH*3)
			want := make([]float32, tc.outW*tc.outH*3)
			for _, r := range tc.rects {
				if err := at.Resize(got, r); err != nil {
					t.Fatal(err)
				}
				if err := ResizeArea(want, src, r, tc.outW, tc.outH); err != nil {
					t.Fatal(err)
				}
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("%v value %d = %v, ResizeArea %v", r, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// BenchmarkAreaTilesColumn: one column of a 1200² design's 360 px tiles
// (stride 168), as the NSFW analyzer walks them, against ResizeArea per
// tile. cpu-ms/op is the thread's CPU time (getrusage), which a loaded
// machine inflates less than wall time.
func BenchmarkAreaTilesColumn(b *testing.B) {
	src := pixels(1200, 1200)
	dst := make([]float32, 224*224*3)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"AreaTiles", func() {
			at := NewAreaTiles(src, 224, 224)
			for y := 0; y+360 <= 1200; y += 168 {
				_ = at.Resize(dst, image.Rect(168, y, 168+360, y+360))
			}
			at.Release()
		}},
		{"ResizeArea", func() {
			for y := 0; y+360 <= 1200; y += 168 {
				_ = ResizeArea(dst, src, image.Rect(168, y, 168+360, y+360), 224, 224)
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := func() time.Duration {
				var ru syscall.Rusage
				_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
				return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			c0 := cpu()
			for b.Loop() {
				tc.f()
			}
			b.ReportMetric(float64((cpu()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
