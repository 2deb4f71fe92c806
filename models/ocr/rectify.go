package ocr

import (
	"math"
	"sort"
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
	// Cumulative arc length and smoothed tangents at the vertices.
	cum := make([]float64, len(line))
	for i := 1; i < len(line); i++ {
		cum[i] = cum[i-1] + line[i].dist(line[i-1])
	}
	total := cum[len(cum)-1]
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
	out := strip{w: w, h: h, rgb: make([]float32, 3*w*h)}
	inv := 1 / float32(k*k)
	for x := 0; x < w; x++ {
		for sub := 0; sub < k; sub++ {
			l := (float64(x) + (float64(sub)+0.5)/float64(k)) / sx
			p, t := along(line, cum, tans, l)
			nrm := pt{t.Y, -t.X}
			for y := 0; y < h; y++ {
				o := 3 * (y*w + x)
				for subY := 0; subY < k; subY++ {
					off := half - (float64(y)+(float64(subY)+0.5)/float64(k))/s
					q := p.add(nrm.mul(off))
					r, g, b := src.bilinear(q.X, q.Y)
					out.rgb[o] += r * inv
					out.rgb[o+1] += g * inv
					out.rgb[o+2] += b * inv
				}
			}
		}
	}
	return out
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
func (s strip) closeInk() strip {
	var sum float64
	n := s.w * s.h
	for i := 0; i < n; i++ {
		sum += float64(0.299*s.rgb[3*i] + 0.587*s.rgb[3*i+1] + 0.114*s.rgb[3*i+2])
	}
	darkInk := sum/float64(n) > 127
	out := strip{w: s.w, h: s.h, rgb: make([]float32, len(s.rgb))}
	for y := 0; y < s.h; y++ {
		for x := 0; x < s.w; x++ {
			o := 3 * (y*s.w + x)
			best := -1
			var bl float32
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := clampi(x+dx, 0, s.w-1), clampi(y+dy, 0, s.h-1)
					j := 3 * (yy*s.w + xx)
					l := 0.299*s.rgb[j] + 0.587*s.rgb[j+1] + 0.114*s.rgb[j+2]
					if best < 0 || (darkInk && l < bl) || (!darkInk && l > bl) {
						best, bl = j, l
					}
				}
			}
			copy(out.rgb[o:o+3], s.rgb[best:best+3])
		}
	}
	return out
}
