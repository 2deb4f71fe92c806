package nsfw

import (
	"fmt"
	"image"
	"math"
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
	}
	return nil
}

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
