package ocr

import "slices"

// Texture filter defaults: a halftone or polka-dot ground makes DB
// detection find every dot (one development design: 784 regions, 484 past
// MaxRegions, the design held as "not read"). A dot is a region about as
// long as it is high; a line of text is longer, and a single letter set
// apart is one of a few, not one of hundreds.
const (
	// textureMinDots is how many dot-like regions make a texture.
	textureMinDots = 100
	// dotAspect: a region whose length along its line is under this many
	// times its height is dot-like.
	dotAspect = 1.6
	// dotSpread: of a texture, the dot-like regions up to this many times
	// the median dot's height are dropped (larger ones — a big letter or
	// monogram on the ground — are kept).
	dotSpread = 2.0
)

// dropTexture leaves out the regions that cannot be text because they
// are the dots of a texture: when at least textureMinDots regions are
// dot-like (length under dotAspect × height), those up to dotSpread × the
// median dot's height. Lines of text (elongated) are always kept, and so
// is everything when there are fewer dots, so ordinary designs are read as
// before. It returns the regions kept, in order, and how many were left
// out.
func dropTexture(regs []region) ([]region, int) {
	var heights []float64
	dot := make([]bool, len(regs))
	for i, r := range regs {
		h := 2 * r.half
		// The line spans the unclipped box's length (regionOf), so a
		// square dot is as long as it is high; a word of three letters or
		// more is at least 1.8 times longer.
		if h > 0 && lineLength(r.line) < dotAspect*h {
			dot[i] = true
			heights = append(heights, h)
		}
	}
	if len(heights) < textureMinDots {
		return regs, 0
	}
	slices.Sort(heights)
	limit := dotSpread * heights[len(heights)/2]
	kept := make([]region, 0, len(regs)-len(heights))
	for i, r := range regs {
		if dot[i] && 2*r.half <= limit {
			continue
		}
		kept = append(kept, r)
	}
	return kept, len(regs) - len(kept)
}

// lineLength is the length of a polyline.
func lineLength(line []pt) float64 {
	var l float64
	for i := 1; i < len(line); i++ {
		l += line[i].dist(line[i-1])
	}
	return l
}
