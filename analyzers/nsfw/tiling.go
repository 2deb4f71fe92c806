package nsfw

import (
	"fmt"
	"image"
	"math"

	"github.com/muster-dev/muster/models/preprocess"
)

// Tiling chooses the tiles classified besides the whole design.
//
// A design whose short side is at least MinShortSide is covered by a grid of
// square tiles of side TileFraction × short side (never below the model
// input, so tiles are not upscaled), overlapping by Overlap, with the last
// row and column flush with the edges.
//
// The defaults follow a measurement (docs/models.md): the nsfwjs model only
// responds to an element that fills about half of its input or more; at a
// third of the frame the same element scores near zero. With tiles of 0.3 ×
// the short side and 50 % overlap, an element of 15 % of the short side lies
// entirely inside some tile and fills half of it. A square design gets 6×6
// tiles, a 4:5 print file (4500×5400) 6×7. When the grid would exceed
// MaxTiles the tiles grow until it fits, which bounds the cost of extreme
// aspect ratios (and weakens the guarantee for them).
type Tiling struct {
	// Disabled turns tiling off: only the whole design is classified.
	Disabled bool
	// MinShortSide is the smallest short side that is tiled (default 448,
	// twice the model input: below that the whole-image input already keeps
	// half the resolution).
	MinShortSide int
	// TileFraction is the tile side as a fraction of the short side (default 0.3).
	TileFraction float64
	// Overlap is the fraction of a tile shared with its neighbour (default 0.5).
	Overlap float64
	// MaxTiles bounds the number of tiles (default 48).
	MaxTiles int

	// Decimate resizes tiles as nsfwjs resizes the whole design (four
	// source pixels per output pixel). Off by default: tiles are cut from
	// the design averaged over blocks of ⌊tile side / input⌋ pixels first,
	// so grain, halftone dots and JPEG blocks are not aliased into speckle
	// (docs/nsfw.md). The whole design always keeps nsfwjs's resize.
	Decimate bool
	// FlatSkip: a tile whose share of pixels near its dominant colour is at
	// least this is not classified — an element the model can see fills
	// about half of its input, so such a tile holds none (default 0.9;
	// negative: classify every tile).
	FlatSkip float64
	// TwoColourSkip: a tile whose share of pixels near its two most common
	// colours is at least this is not classified either — flat art (a
	// shape's edge on a ground, a letter on a ground) has no shading or
	// texture for the model to read, while photographs, shaded drawings and
	// the explicit stand-ins the tiles exist for spread over many colours
	// (default 0.95, measured in docs/nsfw.md; negative: off).
	TwoColourSkip float64
	// VerifyFloor is the tile score (sexual_explicit or
	// sexual_suggestive) from which the second model checks a tile
	// (Config.Verifier; default 0.25, the lowest review threshold of the
	// default policy pack).
	VerifyFloor float64
	// MaxVerify bounds the tiles checked per design, highest first
	// (default DefaultMaxVerify); tiles beyond it keep their own scores
	// (fail closed).
	MaxVerify int
}

// WithDefaults fills zero fields.
func (t Tiling) WithDefaults() Tiling {
	if t.MinShortSide == 0 {
		t.MinShortSide = 448
	}
	if t.TileFraction == 0 {
		t.TileFraction = 0.3
	}
	if t.Overlap == 0 {
		t.Overlap = 0.5
	}
	if t.MaxTiles == 0 {
		t.MaxTiles = 48
	}
	if t.FlatSkip == 0 {
		t.FlatSkip = DefaultFlatSkip
	}
	if t.TwoColourSkip == 0 {
		t.TwoColourSkip = DefaultTwoColourSkip
	}
	if t.VerifyFloor == 0 {
		t.VerifyFloor = DefaultVerifyFloor
	}
	if t.MaxVerify == 0 {
		t.MaxVerify = min(DefaultMaxVerify, t.MaxTiles)
	}
	return t
}

// Validate checks a defaulted Tiling.
func (t Tiling) Validate() error {
	switch {
	case t.TileFraction <= 0 || t.TileFraction > 1:
		return fmt.Errorf("tiling: tile fraction %v outside (0, 1]", t.TileFraction)
	case t.Overlap < 0 || t.Overlap >= 1:
		return fmt.Errorf("tiling: overlap %v outside [0, 1)", t.Overlap)
	case t.MaxTiles < 1 || t.MaxTiles > 256:
		return fmt.Errorf("tiling: max tiles %d outside 1..256", t.MaxTiles)
	case t.MinShortSide < 1:
		return fmt.Errorf("tiling: min short side %d < 1", t.MinShortSide)
	case t.FlatSkip > 1:
		return fmt.Errorf("tiling: flat skip %v above 1", t.FlatSkip)
	case t.TwoColourSkip > 1:
		return fmt.Errorf("tiling: two-colour skip %v above 1", t.TwoColourSkip)
	case t.VerifyFloor < 0 || t.VerifyFloor > 1:
		return fmt.Errorf("tiling: verify floor %v outside 0..1", t.VerifyFloor)
	case t.MaxVerify < 0 || t.MaxVerify > t.MaxTiles:
		return fmt.Errorf("tiling: max verify %d outside 0..%d", t.MaxVerify, t.MaxTiles)
	}
	return nil
}

// Defaults of the tile checks (measured in docs/nsfw.md).
const (
	DefaultFlatSkip      = 0.9
	DefaultTwoColourSkip = 0.95
	DefaultVerifyFloor   = 0.25
	// DefaultMaxVerify: 16 tiles checked at most (8 until session 7: a
	// textured ground with more than 8 candidates was held by an unchecked
	// tile; on the calibration run, 12, 16 or every candidate checked
	// release the same designs and catch the same motifs, docs/nsfw.md).
	// At ~120 ms of CPU per check, 16 bounds a pathological design's cost.
	DefaultMaxVerify = 16
)

// colourShares returns the share of an input's pixels (RGB floats 0..1)
// whose colour, quantized to 4 bits per channel, is within one step of the
// most common one (flat: 1 for a flat colour, JPEG noise included, low for
// texture and detail), and the share within one step of the most common
// one or of the most common of the rest (two: high for flat art of two
// colours). eval/nsfwtiles measures the same quantities.
func colourShares(in []float32) (flat, two float64) {
	var hist [1 << 12]int32
	n := len(in) / 3
	for i := 0; i < n; i++ {
		hist[quant4(in[i*3])<<8|quant4(in[i*3+1])<<4|quant4(in[i*3+2])]++
	}
	near := [2]int32{}
	for k := range near {
		mode := 0
		for q, c := range hist {
			if c > hist[mode] {
				mode = q
			}
		}
		mr, mg, mb := mode>>8, mode>>4&15, mode&15
		for r := max(0, mr-1); r <= min(15, mr+1); r++ {
			for g := max(0, mg-1); g <= min(15, mg+1); g++ {
				for b := max(0, mb-1); b <= min(15, mb+1); b++ {
					near[k] += hist[r<<8|g<<4|b]
					hist[r<<8|g<<4|b] = 0 // counted once
				}
			}
		}
	}
	d := float64(max(1, n))
	return float64(near[0]) / d, float64(near[0]+near[1]) / d
}

// lowInformation reports whether a tile's input is flat or two-coloured
// enough to skip (Tiling.FlatSkip, Tiling.TwoColourSkip).
func (t Tiling) lowInformation(in []float32) bool {
	if t.FlatSkip <= 0 && t.TwoColourSkip <= 0 {
		return false
	}
	flat, two := colourShares(in)
	return (t.FlatSkip > 0 && flat >= t.FlatSkip) || (t.TwoColourSkip > 0 && two >= t.TwoColourSkip)
}

// flatRegion reports whether every pixel of region r of p lies, channel by
// channel, within two adjacent quantization steps of colourShares. The
// area resize of such a region is a weighted mean of those pixels, so
// every value of its input lies in the same range, every pixel is within
// one step of the most common colour and the flat share is 1: the tile
// would be skipped (Tiling.FlatSkip ≤ 1) whatever the resize computes.
// Checking the source first saves resizing it; the scan stops at the
// first pixel outside the range.
func flatRegion(p preprocess.Pixels, r image.Rectangle) bool {
	r = r.Intersect(image.Rect(0, 0, p.Width, p.Height))
	if r.Empty() {
		return false
	}
	var lo, hi [3]int
	o := r.Min.Y*p.Stride + r.Min.X*4
	for c := 0; c < 3; c++ {
		lo[c], hi[c] = int(p.Pix[o+c]), int(p.Pix[o+c])
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := p.Pix[y*p.Stride+r.Min.X*4 : y*p.Stride+r.Max.X*4]
		for i := 0; i < len(row); i += 4 {
			px := row[i : i+3 : i+3]
			for c, v := range px {
				if int(v) < lo[c] {
					lo[c] = int(v)
				} else if int(v) > hi[c] {
					hi[c] = int(v)
				}
			}
		}
		for c := 0; c < 3; c++ {
			if byteStep(hi[c], 1e-4)-byteStep(lo[c], -1e-4) > 1 {
				return false
			}
		}
	}
	return true
}

// byteStep is the quantization step of byte value v (as v/255 in the
// model input), nudged by eps so float rounding of a weighted mean cannot
// fall outside it.
func byteStep(v int, eps float32) int { return quant4(float32(v)/255 + eps) }

// quant4 matches eval/nsfwtiles: uint16(v*15.999).
func quant4(v float32) int { return min(15, max(0, int(v*15.999))) }

// Tiles returns the tiles for a w×h design and a model input of side input
// (nil when the design is not tiled).
func (t Tiling) Tiles(w, h, input int) []image.Rectangle {
	short := min(w, h)
	if t.Disabled || short < t.MinShortSide {
		return nil
	}
	side := max(input, int(math.Round(float64(short)*t.TileFraction)))
	for {
		side = min(side, short)
		xs, ys := positions(w, side, t.Overlap), positions(h, side, t.Overlap)
		if len(xs)*len(ys) > t.MaxTiles && side == short {
			// Extreme aspect ratio: tiles cannot grow any more, so spread
			// MaxTiles of them along the long axis (they may leave gaps).
			if len(xs) > len(ys) {
				xs = spread(w, side, max(1, t.MaxTiles/len(ys)))
			} else {
				ys = spread(h, side, max(1, t.MaxTiles/len(xs)))
			}
		}
		if len(xs)*len(ys) <= t.MaxTiles {
			out := make([]image.Rectangle, 0, len(xs)*len(ys))
			for _, y := range ys {
				for _, x := range xs {
					out = append(out, image.Rect(x, y, x+side, y+side))
				}
			}
			return out
		}
		side = int(math.Ceil(float64(side) * 1.15))
	}
}

// positions spreads tiles of side s over length n with at most (1-overlap)·s
// between starts, the first at 0 and the last flush with the end.
func positions(n, s int, overlap float64) []int {
	if s >= n {
		return []int{0}
	}
	stride := math.Max(1, float64(s)*(1-overlap))
	return spread(n, s, int(math.Ceil(float64(n-s)/stride))+1)
}

// spread places count tiles of side s over length n, evenly, the first at 0
// and the last flush with the end.
func spread(n, s, count int) []int {
	if count <= 1 || s >= n {
		return []int{0}
	}
	out := make([]int, count)
	for i := range out {
		out[i] = int(math.Round(float64(i) * float64(n-s) / float64(count-1)))
	}
	return out
}
