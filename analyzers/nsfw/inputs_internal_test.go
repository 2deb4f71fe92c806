package nsfw

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
	"github.com/muster-dev/muster/mustertype"
)

// oldTileInputs is how tiles were prepared before it was made faster
// (session 5): a flattened copy of the design, averaged over k×k blocks,
// every tile area-resized, then the low-information test.
func oldTileInputs(im *imaging.Image, tl Tiling, all []image.Rectangle) (inputs [][]float32, rects []image.Rectangle, skipped int) {
	px := preprocess.FromImage(im, color.White)
	k := max(1, all[0].Dx()/224)
	src := preprocess.BoxDownscale(px, k)
	for _, r := range all {
		sr := image.Rect(r.Min.X/k, r.Min.Y/k, min(src.Width, (r.Max.X+k-1)/k), min(src.Height, (r.Max.Y+k-1)/k))
		in := make([]float32, 224*224*3)
		if err := preprocess.ResizeArea(in, src, sr, 224, 224); err != nil {
			panic(err)
		}
		if tl.lowInformation(in) {
			skipped++
			continue
		}
		inputs = append(inputs, in)
		rects = append(rects, r)
	}
	return inputs, rects, skipped
}

// oldVerifierInputs is the second model's input as it was: the whole
// flattened design averaged over k×k blocks, each box cut and resized.
func oldVerifierInputs(im *imaging.Image, boxes []mustertype.Box) [][]float32 {
	px := preprocess.FromImage(im, color.White)
	k := max(1, boxes[0].W/299)
	src := preprocess.BoxDownscale(px, k)
	var out [][]float32
	for _, b := range boxes {
		sr := image.Rect(b.X/k, b.Y/k, min(src.Width, (b.X+b.W+k-1)/k), min(src.Height, (b.Y+b.H+k-1)/k))
		in := make([]float32, 299*299*3)
		if err := preprocess.ResizeArea(in, src, sr, 299, 299); err != nil {
			panic(err)
		}
		out = append(out, in)
	}
	return out
}

// testDesign draws discs (some with soft, half-transparent edges) on a
// transparent, flat, gradient or grainy ground.
func testDesign(w, h int, ground string, seed uint64) *imaging.Image {
	rng := rand.New(rand.NewPCG(seed, 11))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			switch ground {
			case "flat":
				img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = 30, 140, 90, 255
			case "gradient":
				img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(40+150*x/w), uint8(120+100*y/h), 200, 255
			case "grain":
				n := uint8(rng.IntN(24))
				img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = 60+n, 90+n, 110+n, 255
			}
		}
	}
	for d := 0; d < 4; d++ {
		cx, cy, rad := rng.IntN(w), rng.IntN(h), w/12+rng.IntN(w/6)
		c := [3]uint8{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))}
		for y := max(0, cy-rad-8); y < min(h, cy+rad+8); y++ {
			for x := max(0, cx-rad-8); x < min(w, cx+rad+8); x++ {
				dd := (x-cx)*(x-cx) + (y-cy)*(y-cy)
				o := img.PixOffset(x, y)
				switch {
				case dd < rad*rad:
					img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c[0]+uint8(x%7), c[1]+uint8(y%5), c[2], 255
				case dd < (rad+8)*(rad+8) && ground == "transparent":
					img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c[0], c[1], c[2], uint8(rng.IntN(255))
				}
			}
		}
	}
	return &imaging.Image{MediaType: imaging.MediaPNG, NRGBA: img, HasAlpha: ground == "transparent", Orientation: 1}
}

// TestTileInputsUnchanged: the tiles classified, the tiles skipped and
// every tile's model input are what they were before tile preparation
// was made faster (no flattened copy, flat regions skipped before their
// resize), bit for bit; so are the second model's inputs. The scores, and
// so the measured sensitivity and precision, cannot have changed.
func TestTileInputsUnchanged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h   int
		ground string
	}{
		{1200, 1200, "transparent"}, {1200, 1200, "flat"}, {1000, 1000, "grain"}, {1200, 1500, "gradient"},
		{2000, 2400, "grain"}, {2250, 2700, "transparent"}, {2250, 2700, "gradient"},
	} {
		t.Run(tc.ground, func(t *testing.T) {
			t.Parallel()
			im := testDesign(tc.w, tc.h, tc.ground, uint64(tc.w))
			a := &Analyzer{cfg: Config{}.WithDefaults(), manifest: models.Manifest{Preprocessing: models.Preprocessing{Width: 224, Height: 224}}}
			all := a.cfg.Tiling.Tiles(tc.w, tc.h, 224)
			src := preprocess.NewSource(im, color.White)
			var (
				in    [][]float32
				rects []image.Rectangle
			)
			skipped, err := a.tileInputs(src, preprocess.Pixels{}, all, 224, 224, true, func(x []float32, r image.Rectangle) {
				in, rects = append(in, x), append(rects, r)
			})
			if err != nil {
				t.Fatal(err)
			}
			rowMajor(rects, in) // prepared column by column
			wantIn, wantRects, wantSkipped := oldTileInputs(im, a.cfg.Tiling, all)
			if skipped != wantSkipped || len(rects) != len(wantRects) {
				t.Fatalf("%dx%d %s: %d classified, %d skipped; before: %d, %d", tc.w, tc.h, tc.ground, len(rects), skipped, len(wantRects), wantSkipped)
			}
			for i := range rects {
				if rects[i] != wantRects[i] {
					t.Fatalf("tile %d is %v, was %v", i, rects[i], wantRects[i])
				}
				for j := range in[i] {
					if in[i][j] != wantIn[i][j] {
						t.Fatalf("tile %v value %d = %v, was %v", rects[i], j, in[i][j], wantIn[i][j])
					}
				}
			}
			var boxes []mustertype.Box
			for i, r := range all {
				if i%3 == 0 {
					boxes = append(boxes, box(r))
				}
			}
			got, err := verifierInputs(src, boxes, 299, 299)
			if err != nil {
				t.Fatal(err)
			}
			want := oldVerifierInputs(im, boxes)
			for i := range got {
				for j := range got[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("verifier input %v value %d = %v, was %v", boxes[i], j, got[i][j], want[i][j])
					}
				}
			}
			t.Logf("%dx%d %s: %d tiles classified, %d skipped", tc.w, tc.h, tc.ground, len(rects), skipped)
		})
	}
}
