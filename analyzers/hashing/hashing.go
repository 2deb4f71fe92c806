// Package hashing is the normalisation-and-hashing analyzer: it records the
// normalised form of a design (upright size, transparency) and its whole-image
// perceptual hashes (goimagehash pHash, dHash, aHash).
package hashing

import (
	"context"
	"fmt"
	"image"

	"github.com/corona10/goimagehash"

	"github.com/muster-dev/muster/analyzers"
)

// thumbSide bounds the image the hashes are computed on: the hashes work on
// 64×64 or smaller, so one box-filtered downscale first saves goimagehash
// three full-size resizes (1200×1200: ~500 ms → a few ms).
const thumbSide = 256

// thumbnail composites img onto white and scales it so its longer side is
// at most side, with a box filter (each output pixel the mean of the input
// pixels it covers), in one pass.
func thumbnail(img *image.NRGBA, side int) *image.RGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	tw, th := w, h
	if w > side || h > side {
		tw, th = side, h*side/w
	}
	if h > w && h > side {
		tw, th = w*side/h, side
	}
	tw, th = max(tw, 1), max(th, 1)
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	for ty := 0; ty < th; ty++ {
		y0, y1 := ty*h/th, max((ty+1)*h/th, ty*h/th+1)
		for tx := 0; tx < tw; tx++ {
			x0, x1 := tx*w/tw, max((tx+1)*w/tw, tx*w/tw+1)
			var r, g, b, n uint32
			for y := y0; y < y1; y++ {
				row := img.Pix[y*img.Stride:]
				for x := x0; x < x1; x++ {
					// Non-premultiplied over white: c·a + 255·(1−a).
					a := uint32(row[4*x+3])
					r += (uint32(row[4*x])*a + 255*(255-a)) / 255
					g += (uint32(row[4*x+1])*a + 255*(255-a)) / 255
					b += (uint32(row[4*x+2])*a + 255*(255-a)) / 255
					n++
				}
			}
			o := out.PixOffset(tx, ty)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = uint8(r/n), uint8(g/n), uint8(b/n), 255
		}
	}
	return out
}

// Analyzer computes whole-image perceptual hashes.
type Analyzer struct{}

// Result is the analyzer's stored result.
type Result struct {
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	MediaType   string `json:"media_type"`
	HasAlpha    bool   `json:"has_alpha"`
	Orientation int    `json:"orientation"`
	// Hashes of the design composited on white and box-downscaled to at most
	// 256 px, as goimagehash strings ("p:…").
	PHash string `json:"phash"`
	DHash string `json:"dhash"`
	AHash string `json:"ahash"`
}

// Name is "hash".
func (Analyzer) Name() string { return "hash" }

// Version names the hashing library and this analyzer's revision.
func (Analyzer) Version() string { return "goimagehash-v1.1.0/2" }

// Analyze hashes the design.
func (a Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	im := d.Image
	flat := thumbnail(im.NRGBA, thumbSide)
	p, err := goimagehash.PerceptionHash(flat)
	if err != nil {
		return analyzers.Result{}, fmt.Errorf("phash: %w", err)
	}
	dh, err := goimagehash.DifferenceHash(flat)
	if err != nil {
		return analyzers.Result{}, fmt.Errorf("dhash: %w", err)
	}
	ah, err := goimagehash.AverageHash(flat)
	if err != nil {
		return analyzers.Result{}, fmt.Errorf("ahash: %w", err)
	}
	return analyzers.Result{Data: Result{
		Width: im.Width(), Height: im.Height(), MediaType: im.MediaType, HasAlpha: im.HasAlpha, Orientation: im.Orientation,
		PHash: p.ToString(), DHash: dh.ToString(), AHash: ah.ToString(),
	}}, nil
}

// Open opens the analyzer (it holds nothing); it is the analyzer's entry in
// the registry.
func Open(context.Context, analyzers.Deps) (analyzers.Analyzer, func() error, error) {
	return Analyzer{}, nil, nil
}
