package match

// Line art (match-14). Icon sets drawn with strokes of a fixed width
// (tabler: 2 px whatever the size it is drawn at, as oksvg strokes them)
// put hairlines in a design: an 800 px icon on a 1200² design has 2 px
// lines. The main pass's area averaging to the work size halves their
// contrast (k-means then scatters them over the ground's clusters, and no
// component has the icon's shape), and a region of such lines, stretched
// to the 48×48 template by area averaging, keeps only a few pixels of its
// strokes (under half a pixel of ink per template pixel, below the
// threshold). References are prepared at 192 px and reduced to refSide
// (128) with their strokes thresholded, about a pixel wide there. So:
//
//   - the detail pass (DetailSize, where a 2 px line is still whole) also
//     proposes large regions of thin strokes: thin components over its size
//     limit, each with the components of its colour inside its box (an
//     outline and its inner strokes), which the main pass may have lost;
//   - a region of thin strokes larger than the references' drawing size
//     is hashed and templated from its redrawing at that size with the
//     references' stroke, prepared as they are (lineArtShape), instead of
//     from the full mask whose strokes the template's averaging drops.

// thinInterior is the share of a component's pixels with all four
// neighbours in it below which the component is a thin stroke: a 2 px
// line has none, a 3 px line a third.
const thinInterior = 0.25

// thinStroke reports whether c (a component of labels, w×h) is drawn with
// strokes about 2 px wide or thinner: under thinInterior of its pixels
// have all four neighbours of its label.
func thinStroke(c *component, labels []uint8, w, h int) bool {
	if c.area < 16 {
		return false
	}
	lab := c.label
	interior := 0
	for _, p := range c.pix {
		x, y := int(p)%w, int(p)/w
		if x == 0 || y == 0 || x == w-1 || y == h-1 {
			continue
		}
		i := int(p)
		if labels[i-1] == lab && labels[i+1] == lab && labels[i-w] == lab && labels[i+w] == lab {
			interior++
		}
	}
	return float64(interior) < thinInterior*float64(c.area)
}

// lineArtDrawn is the side references are drawn at (bank.RenderSize) and
// lineArtStroke the width, in pixels there, a region's strokes are redrawn
// with: a fixed-width stroke is 2 px, and a pixel more covers where in it
// the reduced line lies (with 2, tabler's brand-threads as a 530 px
// hairline on dev seed 101 scored 0.926 against its reference, with 3
// 0.993).
const (
	lineArtDrawn  = 192
	lineArtStroke = 3
)

// lineArtShape redraws a region of thin strokes whose longer side exceeds
// lineArtDrawn as a reference of it is drawn and prepared: reduced to
// lineArtDrawn on that side keeping every stroke (a pixel is ink when any
// pixel of the region it covers is), thickened to lineArtStroke, then
// reduced to refSide by area and thresholded, as Prepare does. Smaller
// regions are returned as they are.
func lineArtShape(m Mask) Mask {
	t := m.tight()
	side := max(t.W, t.H)
	if side <= lineArtDrawn {
		return m
	}
	w, h := max(1, t.W*lineArtDrawn/side), max(1, t.H*lineArtDrawn/side)
	// one pixel of margin right and below for the thickening
	drawn := NewMask(w+lineArtStroke-1, h+lineArtStroke-1)
	for y := 0; y < t.H; y++ {
		oy := y * h / t.H
		row := t.Pix[y*t.W : (y+1)*t.W]
		for x, v := range row {
			if v < 128 {
				continue
			}
			ox := x * w / t.W
			for dy := 0; dy < lineArtStroke; dy++ {
				orow := drawn.Pix[(oy+dy)*drawn.W:]
				for dx := 0; dx < lineArtStroke; dx++ {
					orow[ox+dx] = 255
				}
			}
		}
	}
	s := float64(refSide) / float64(max(drawn.W, drawn.H))
	out := drawn.Resize(max(1, int(float64(drawn.W)*s+0.5)), max(1, int(float64(drawn.H)*s+0.5)))
	for i, v := range out.Pix {
		if v >= 128 {
			out.Pix[i] = 255
		} else {
			out.Pix[i] = 0
		}
	}
	return out
}

// shapeMask is the mask a candidate is hashed and templated from: its
// line-art reduction when it has one, else its mask.
func (c *candidate) shapeMask() Mask {
	if c.lineArt.W > 0 {
		return c.lineArt
	}
	return c.mask
}
