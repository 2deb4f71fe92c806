package hashing

import (
	"context"
	"image"
	"image/color"
	"testing"

	"github.com/corona10/goimagehash"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/internal/imaging"
)

func art(w, h int, invert bool) *imaging.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// A gradient with a dark disc off-centre: low-frequency content.
			v := uint8(255 * x / w)
			dx, dy := x-w/3, y-h/3
			if dx*dx+dy*dy < w*w/16 {
				v = 20
			}
			if invert {
				v = 255 - v
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v / 2, 255 - v, 255})
		}
	}
	return &imaging.Image{MediaType: imaging.MediaPNG, NRGBA: img}
}

func TestHashesSurviveScaleButNotContentChange(t *testing.T) {
	t.Parallel()
	hash := func(im *imaging.Image) *goimagehash.ImageHash {
		res, err := Analyzer{}.Analyze(context.Background(), &analyzers.Design{Image: im})
		if err != nil {
			t.Fatal(err)
		}
		h, err := goimagehash.ImageHashFromString(res.Data.(Result).PHash)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	small, big, other := hash(art(300, 300, false)), hash(art(1200, 1200, false)), hash(art(1200, 1200, true))
	if d, _ := small.Distance(big); d > 4 {
		t.Fatalf("same art at two scales: distance %d, want ≤ 4", d)
	}
	if d, _ := big.Distance(other); d < 16 {
		t.Fatalf("inverted art: distance %d, want ≥ 16", d)
	}
}

func TestThumbnail(t *testing.T) {
	t.Parallel()
	tests := []struct{ w, h, tw, th int }{{1200, 1200, 256, 256}, {4500, 5400, 213, 256}, {100, 50, 100, 50}, {5000, 10, 256, 1}, {10, 5000, 1, 256}}
	for _, tt := range tests {
		img := image.NewNRGBA(image.Rect(0, 0, tt.w, tt.h))
		got := thumbnail(img, 256).Rect
		if got.Dx() != tt.tw || got.Dy() != tt.th {
			t.Fatalf("%dx%d → %dx%d, want %dx%d", tt.w, tt.h, got.Dx(), got.Dy(), tt.tw, tt.th)
		}
	}
}

func BenchmarkAnalyze1200(b *testing.B) {
	d := &analyzers.Design{Image: art(1200, 1200, false)}
	for b.Loop() {
		if _, err := (Analyzer{}).Analyze(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestThumbnailCompositesOnWhite(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 0})   // transparent → white
	img.SetNRGBA(1, 0, color.NRGBA{0, 0, 0, 255}) // opaque black
	th := thumbnail(img, 256)
	if got := th.RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Fatalf("transparent pixel → %v, want white", got)
	}
	if got := th.RGBAAt(1, 0); got != (color.RGBA{0, 0, 0, 255}) {
		t.Fatalf("black pixel → %v", got)
	}
}
