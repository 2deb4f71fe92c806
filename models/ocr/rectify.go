package ocr

import (
	"fmt"
	"math"
	"sort"

	"github.com/muster-dev/muster/internal/threshold"
)

// strip is a rectified text line: RGB float32 values (interleaved,
// 0..255), h rows of w columns, text upright and read left to right.
type strip struct {
	w, h int
	rgb  []float32
}

// maxStripWidth caps a strip's width (a very long line is squeezed, as
// PaddleOCR's resize does past its maximum width).
const maxStripWidth = 1600

// rectify samples the band of half-height r.half around r.line into a
// strip of height h: column x is the point at arc length x/s along the
// line, row y the point (half − (y+0.5)/s) along the upright normal. A
// straight line is the crop of a rotated box (PaddleOCR's
// get_rotate_crop_image); a curved one is unrolled along its centre line,
// so an arched word becomes a straight strip. When the strip is smaller
// than the text, each output pixel averages k×k samples (k ≤ 8) instead of
// decimating.
func rectify(src *raster, line []pt, half float64, h int) strip {
	r := newRectifier(src, line, half, h)
	r.columns(0, r.out.w)
	return r.out
}

// rectifier is one strip being sampled; columns fills a range of its
// columns, so the columns of a long strip can be sampled on several
// goroutines (each column's values do not depend on the others).
type rectifier struct {
	src     *raster
	line    []pt
	cum     []float64
	tans    []pt
	half, s float64
	sx      float64
	k       int
	out     strip
	// glyphs, when set, replace the line: the strip is their crops side
	// by side (cellCum: where each starts along the strip).
	glyphs  []glyphCrop
	cellCum []float64
}

func newRectifier(src *raster, line []pt, half float64, h int) *rectifier {
	return newRectifierGlyphs(src, line, nil, half, h)
}

// newRectifierGlyphs is newRectifier for a region cut into glyph crops
// (tight arcs): each glyph is sampled as a rotated rectangle of its own,
// upright, without the stretch of unrolling a small circle.
func newRectifierGlyphs(src *raster, line []pt, glyphs []glyphCrop, half float64, h int) *rectifier {
	// Cumulative arc length and smoothed tangents at the vertices.
	cum := make([]float64, len(line))
	for i := 1; i < len(line); i++ {
		cum[i] = cum[i-1] + line[i].dist(line[i-1])
	}
	total := cum[len(cum)-1]
	var cellCum []float64
	if len(glyphs) > 0 {
		cellCum = make([]float64, len(glyphs)+1)
		for i, g := range glyphs {
			cellCum[i+1] = cellCum[i] + g.w
		}
		total = cellCum[len(glyphs)]
	}
	s := float64(h) / (2 * half)
	w := max(8, int(math.Round(total*s)))
	sx := s // horizontal scale (output px per design px along the line)
	if w > maxStripWidth {
		w = maxStripWidth
		sx = float64(w) / total
	}
	tans := make([]pt, len(line))
	for i := range line {
		tans[i] = tangentAt(line, i)
	}
	k := clampi(int(math.Ceil(1/s)), 1, 8)
	return &rectifier{src: src, line: line, cum: cum, tans: tans, half: half, s: s, sx: sx, k: k,
		glyphs: glyphs, cellCum: cellCum,
		out: strip{w: w, h: h, rgb: make([]float32, 3*w*h)}}
}

// point returns the point at length l along the strip's centre line and
// the tangent there: along the line, or inside the glyph crop l falls in
// (returned too).
func (r *rectifier) point(l float64) (pt, pt, *glyphCrop) {
	if len(r.glyphs) == 0 {
		p, t := along(r.line, r.cum, r.tans, l)
		return p, t, nil
	}
	i := clampi(sort.SearchFloat64s(r.cellCum, l)-1, 0, len(r.glyphs)-1)
	g := &r.glyphs[i]
	return g.start.add(g.t.mul(l - r.cellCum[i])), g.t, g
}

// columns samples the strip's columns x0..x1-1.
func (r *rectifier) columns(x0, x1 int) {
	k, s, h, w := r.k, r.s, r.out.h, r.out.w
	inv := 1 / float32(k*k)
	// The offset along the normal of every sample row (the same for
	// every column).
	offs := make([]float64, h*k)
	for y := 0; y < h; y++ {
		for subY := 0; subY < k; subY++ {
			offs[y*k+subY] = r.half - (float64(y)+(float64(subY)+0.5)/float64(k))/s
		}
	}
	rgb := r.out.rgb
	for x := x0; x < x1; x++ {
		for sub := 0; sub < k; sub++ {
			l := (float64(x) + (float64(sub)+0.5)/float64(k)) / r.sx
			p, t, gl := r.point(l)
			nrm := pt{t.Y, -t.X}
			// A glyph crop's samples on another letter's ink read the ground.
			var letters *letterMap
			if gl != nil {
				letters = gl.letters
			}
			for y := 0; y < h; y++ {
				o := 3 * (y*w + x)
				px := rgb[o : o+3 : o+3]
				// The samples are added in the same order as one at a time
				// into the strip: the same float32 sums.
				cr0, cg0, cb0 := px[0], px[1], px[2]
				for _, off := range offs[y*k : (y+1)*k] {
					q := p.add(nrm.mul(off))
					var cr, cg, cb float32
					if letters != nil && letters.other(q, gl.id) {
						cr, cg, cb = letters.bg[0], letters.bg[1], letters.bg[2]
					} else {
						cr, cg, cb = r.src.bilinear(q.X, q.Y)
					}
					cr0 += cr * inv
					cg0 += cg * inv
					cb0 += cb * inv
				}
				px[0], px[1], px[2] = cr0, cg0, cb0
			}
		}
	}
}

// rectifyAll rectifies and contrast-stretches every region's strip on up
// to par goroutines: the work is cut into blocks of columns (a large
// title sampled 8×8 per pixel is most of a print file's rectification),
// then each strip is stretched. The strips are the same as rectify's one
// by one.
func rectifyAll(src *raster, regs []region, h, par int) []strip {
	rs := make([]*rectifier, len(regs))
	type block struct{ i, x0, x1 int }
	var blocks []block
	for i, reg := range regs {
		rs[i] = newRectifierGlyphs(src, reg.line, reg.glyphs, reg.half, h)
		// About the same number of bilinear samples a block.
		step := max(8, 4096/(rs[i].k*rs[i].k))
		for x0 := 0; x0 < rs[i].out.w; x0 += step {
			blocks = append(blocks, block{i, x0, min(x0+step, rs[i].out.w)})
		}
	}
	forEach(par, len(blocks), func(b int) {
		rs[blocks[b].i].columns(blocks[b].x0, blocks[b].x1)
	})
	strips := make([]strip, len(regs))
	forEach(par, len(regs), func(i int) {
		strips[i] = rs[i].out.stretch()
	})
	return strips
}

// along returns the point at arc length l and the tangent there,
// interpolated between the vertices' tangents so a curved line bends
// smoothly.
func along(line []pt, cum []float64, tans []pt, l float64) (pt, pt) {
	i := sort.SearchFloat64s(cum, l)
	switch {
	case i <= 0:
		return line[0].add(tans[0].mul(l)), tans[0]
	case i >= len(line):
		last := len(line) - 1
		return line[last].add(tans[last].mul(l - cum[last])), tans[last]
	}
	seg := cum[i] - cum[i-1]
	f := 0.0
	if seg > 0 {
		f = (l - cum[i-1]) / seg
	}
	p := line[i-1].add(line[i].sub(line[i-1]).mul(f))
	t := tans[i-1].mul(1 - f).add(tans[i].mul(f)).unit()
	return p, t
}

// rotate180 turns a strip upside down.
func (s strip) rotate180() strip {
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	n := s.w * s.h
	for i := 0; i < n; i++ {
		j := n - 1 - i
		copy(out.rgb[3*j:3*j+3], s.rgb[3*i:3*i+3])
	}
	return out
}

// invert returns the negative (light text on dark reads as dark on light).
func (s strip) invert() strip {
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	for i, v := range s.rgb {
		out.rgb[i] = 255 - v
	}
	return out
}

// stretch spreads the strip's luminance between its 2nd and 98th
// percentiles over 0..255 (faint, low-contrast and colour-on-colour text).
func (s strip) stretch() strip {
	n := s.w * s.h
	var hist [256]int
	for i := 0; i < n; i++ {
		l := 0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2]
		hist[clampi(int(l), 0, 255)]++
	}
	lo, hi := percentile(hist[:], n, 0.02), percentile(hist[:], n, 0.98)
	if hi-lo < 8 || (lo <= 5 && hi >= 250) {
		return s
	}
	k := 255 / float32(hi-lo)
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	for i, v := range s.rgb {
		out.rgb[i] = min(max((v-float32(lo))*k, 0), 255)
	}
	return out
}

func percentile(hist []int, n int, q float64) int {
	target := int(q * float64(n))
	acc := 0
	for i, c := range hist {
		acc += c
		if acc > target {
			return i
		}
	}
	return len(hist) - 1
}

// closeInk fills small holes in the letters (distressed prints, speckle):
// a 3×3 minimum over the strip when its ink is darker than its background
// (most of a strip is background), a maximum otherwise.
func (s strip) closeInk() strip { return s.spreadInk(1) }

// spreadInk is a (2r+1)×(2r+1) minimum over the strip's luminance when its
// ink is darker than its background, a maximum otherwise: ink spreads
// over holes up to 2r pixels wide.
func (s strip) spreadInk(r int) strip { return s.morph(r, true) }

// closing is a morphological closing of the ink (spread by r, then shrunk
// by r): holes and bites narrower than 2r+1 pixels are filled while the
// strokes keep their width.
func (s strip) closing(r int) strip {
	dark := s.darkInk()
	return s.morphInk(r, dark).morphInk(r, !dark)
}

func (s strip) darkInk() bool {
	var sum float64
	n := s.w * s.h
	for i := 0; i < n; i++ {
		sum += float64(0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2])
	}
	return sum/float64(n) > 127
}

// morph spreads the ink by r (spread) — dark ink when the strip is mostly
// light.
func (s strip) morph(r int, spread bool) strip {
	dark := s.darkInk()
	if !spread {
		dark = !dark
	}
	return s.morphInk(r, dark)
}

// morphInk is a (2r+1)×(2r+1) minimum of the luminance (min true) or a
// maximum, keeping the chosen pixel's colour.
func (s strip) morphInk(r int, minimum bool) strip {
	n := s.w * s.h
	lum := make([]float32, n)
	for i := 0; i < n; i++ {
		lum[i] = 0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2]
	}
	better := func(a, b float32) bool { return (minimum && a < b) || (!minimum && a > b) }
	// Separable: the best index along rows, then along columns.
	rowBest := make([]int32, n)
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			best := y*s.w + x
			for dx := -r; dx <= r; dx++ {
				j := y*s.w + clampi(x+dx, 0, s.w-1)
				if better(lum[j], lum[best]) {
					best = j
				}
			}
			rowBest[y*s.w+x] = int32(best)
		}
	}
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			best := int(rowBest[y*s.w+x])
			for dy := -r; dy <= r; dy++ {
				j := int(rowBest[clampi(y+dy, 0, s.h-1)*s.w+x])
				if better(lum[j], lum[best]) {
					best = j
				}
			}
			o := 3 * (y*s.w + x)
			copy(out.rgb[o:o+3], s.rgb[3*best:3*best+3])
		}
	}
	return out
}

// blur is a box blur of radius r, twice (close to a Gaussian): holes and
// speckle in the letters fade into their strokes.
func (s strip) blur(r int) strip {
	out := strip{w: s.w, h: s.h, rgb: append([]float32(nil), s.rgb...)}
	tmp := make([]float32, len(s.rgb))
	k := 1 / float32(2*r+1)
	for pass := 0; pass < 2; pass++ {
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				var a, b, c float32
				for d := -r; d <= r; d++ {
					j := 3 * (y*s.w + clampi(x+d, 0, s.w-1))
					a, b, c = a+out.rgb[j], b+out.rgb[j+1], c+out.rgb[j+2]
				}
				o := 3 * (y*s.w + x)
				tmp[o], tmp[o+1], tmp[o+2] = a*k, b*k, c*k
			}
		}
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				var a, b, c float32
				for d := -r; d <= r; d++ {
					j := 3 * (clampi(y+d, 0, s.h-1)*s.w + x)
					a, b, c = a+tmp[j], b+tmp[j+1], c+tmp[j+2]
				}
				o := 3 * (y*s.w + x)
				out.rgb[o], out.rgb[o+1], out.rgb[o+2] = a*k, b*k, c*k
			}
		}
	}
	return out
}

// median is a 3×3 median by luminance (the pixel of median luminance):
// speckle goes, strokes keep their edges.
func (s strip) median() strip {
	n := s.w * s.h
	lum := make([]float32, n)
	for i := 0; i < n; i++ {
		lum[i] = 0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2]
	}
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	var idx [9]int
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			k := 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					idx[k] = clampi(y+dy, 0, s.h-1)*s.w + clampi(x+dx, 0, s.w-1)
					k++
				}
			}
			// Insertion sort of nine by luminance.
			for i := 1; i < 9; i++ {
				for j := i; j > 0 && lum[idx[j]] < lum[idx[j-1]]; j-- {
					idx[j], idx[j-1] = idx[j-1], idx[j]
				}
			}
			o := 3 * (y*s.w + x)
			copy(out.rgb[o:o+3], s.rgb[3*idx[4]:3*idx[4]+3])
		}
	}
	return out
}

// Second-reading filters a Config may name (Config.Retry).
const (
	FilterInvert = "invert" // the negative: light on dark, outlines
	FilterClose  = "close"  // 3×3 ink spread: small holes
	FilterClose5 = "close5" // 5×5 ink spread: larger holes
	FilterBlur   = "blur"   // box blur of radius 1, twice
	FilterMedian = "median" // 3×3 median: speckle
	// Morphological closings: holes and bites filled, strokes as wide.
	FilterClosing3 = "closing3"
	FilterClosing5 = "closing5"
	FilterClosing7 = "closing7"
	// FilterErode is a 3×3 ink shrink: letters that bleed into each
	// other (bold, outlined, JPEG halo) come apart.
	FilterErode = "erode"
	// FilterBinarize is Otsu's threshold of the luminance: uneven
	// distress and speckle become clean ink on clean ground.
	FilterBinarize = "binarize"
)

// filter applies a named second-reading filter.
func (s strip) filter(name string) (strip, error) {
	switch name {
	case FilterInvert:
		return s.invert(), nil
	case FilterClose:
		return s.spreadInk(1), nil
	case FilterClose5:
		return s.spreadInk(2), nil
	case FilterBlur:
		return s.blur(1), nil
	case FilterMedian:
		return s.median(), nil
	case FilterClosing3:
		return s.closing(1), nil
	case FilterClosing5:
		return s.closing(2), nil
	case FilterClosing7:
		return s.closing(3), nil
	case FilterErode:
		return s.morph(1, false), nil
	case FilterBinarize:
		return s.binarize(), nil
	}
	return strip{}, fmt.Errorf("ocr: unknown filter %q", name)
}

// binarize sets every pixel to the strip's darkest or lightest
// luminance class by Otsu's threshold (grey levels, black and white).
func (s strip) binarize() strip {
	n := s.w * s.h
	var hist [256]int
	lum := make([]float32, n)
	for i := 0; i < n; i++ {
		lum[i] = 0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2]
		hist[clampi(int(lum[i]), 0, 255)]++
	}
	thr := threshold.Otsu(&hist)
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	for i := 0; i < n; i++ {
		v := float32(0)
		if int(lum[i]) > thr {
			v = 255
		}
		out.rgb[3*i], out.rgb[3*i+1], out.rgb[3*i+2] = v, v, v
	}
	return out
}
