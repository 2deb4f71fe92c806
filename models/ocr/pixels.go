package ocr

import (
	"encoding/binary"
	"image"
	"math"
)

// raster is the design's upright pixels composited onto an opaque
// background on the fly (no flattened copy of a 24-megapixel print file).
type raster struct {
	pix    []uint8 // NRGBA
	stride int
	w, h   int
	alpha  bool
	bg     [3]float32
}

// newRaster wraps an NRGBA image. A transparent design is composited onto
// white unless its visible pixels are mostly light (white text on a
// transparent shirt design), then onto black, so light-on-transparent text
// stays readable.
func newRaster(img *image.NRGBA) *raster { return newRasterKnown(img, alphaUnknown) }

// What the caller knows of an image's transparency (newRasterKnown).
const (
	alphaUnknown = iota // check
	alphaNone           // every pixel is opaque
	alphaSome           // some pixel is not
)

// newRasterKnown is newRaster for an image whose transparency the caller
// may know already (imaging.Image.HasAlpha, checked on every pixel while
// decoding): an opaque image is not scanned again, a transparent one is
// only sampled for its luminance.
func newRasterKnown(img *image.NRGBA, known int) *raster {
	b := img.Rect
	r := &raster{pix: img.Pix[img.PixOffset(b.Min.X, b.Min.Y):], stride: img.Stride, w: b.Dx(), h: b.Dy(), bg: [3]float32{255, 255, 255}}
	if known == alphaNone {
		return r
	}
	r.alpha = known == alphaSome
	// Sample a grid: any transparency, and the mean luminance of what is visible.
	step := max(1, int(math.Sqrt(float64(r.w*r.h)/40000)))
	var lum, wsum float64
	for y := 0; y < r.h; y += step {
		row := r.pix[y*r.stride:]
		for x := 0; x < r.w; x += step {
			p := row[4*x : 4*x+4]
			if p[3] < 255 {
				r.alpha = true
			}
			a := float64(p[3]) / 255
			lum += a * (0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2]))
			wsum += a
		}
	}
	if !r.alpha {
		// The grid may miss a few transparent pixels; check exactly.
		for y := 0; y < r.h && !r.alpha; y++ {
			r.alpha = !opaqueRow(r.pix[y*r.stride : y*r.stride+4*r.w])
		}
	}
	if r.alpha && wsum > 0 && lum/wsum > 170 {
		r.bg = [3]float32{0, 0, 0}
	}
	return r
}

// at returns the composited RGB of pixel (x, y), clamped to the image.
func (r *raster) at(x, y int) (float32, float32, float32) {
	x = min(max(x, 0), r.w-1)
	y = min(max(y, 0), r.h-1)
	p := r.pix[y*r.stride+4*x : y*r.stride+4*x+4]
	if !r.alpha || p[3] == 255 {
		return float32(p[0]), float32(p[1]), float32(p[2])
	}
	a := float32(p[3]) / 255
	return float32(p[0])*a + r.bg[0]*(1-a), float32(p[1])*a + r.bg[1]*(1-a), float32(p[2])*a + r.bg[2]*(1-a)
}

// bilinear samples at continuous coordinates (pixel centres at +0.5).
func (r *raster) bilinear(x, y float64) (float32, float32, float32) {
	x -= 0.5
	y -= 0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0), float32(y-y0)
	ix, iy := int(x0), int(y0)
	if !r.alpha && ix >= 0 && iy >= 0 && ix+1 < r.w && iy+1 < r.h {
		// Inside an opaque raster (nearly every sample): the four pixels
		// straight from the bytes, the same arithmetic as below.
		a := r.pix[iy*r.stride+4*ix:]
		b := r.pix[(iy+1)*r.stride+4*ix:]
		a, b = a[:8:8], b[:8:8]
		l := func(p00, p10, p01, p11 uint8) float32 {
			v00, v10, v01, v11 := float32(p00), float32(p10), float32(p01), float32(p11)
			top := v00 + (v10-v00)*fx
			bot := v01 + (v11-v01)*fx
			return top + (bot-top)*fy
		}
		return l(a[0], a[4], b[0], b[4]), l(a[1], a[5], b[1], b[5]), l(a[2], a[6], b[2], b[6])
	}
	r00, g00, b00 := r.at(ix, iy)
	r10, g10, b10 := r.at(ix+1, iy)
	r01, g01, b01 := r.at(ix, iy+1)
	r11, g11, b11 := r.at(ix+1, iy+1)
	l := func(a, b, c, d float32) float32 {
		top := a + (b-a)*fx
		bot := c + (d-c)*fx
		return top + (bot-top)*fy
	}
	return l(r00, r10, r01, r11), l(g00, g10, g01, g11), l(b00, b10, b01, b11)
}

// axisWeights are the source taps and weights of each output coordinate
// for resampling n source pixels to m: a box (area average) when shrinking,
// a tent (linear interpolation) when enlarging.
func axisWeights(n, m int) [][]tap {
	out := make([][]tap, m)
	scale := float64(m) / float64(n)
	for i := range out {
		c := (float64(i)+0.5)/scale - 0.5 // source coordinate of the output centre
		if scale >= 1 {
			x0 := math.Floor(c)
			f := c - x0
			a, b := min(max(int(x0), 0), n-1), min(max(int(x0)+1, 0), n-1)
			out[i] = []tap{{a, float32(1 - f)}, {b, float32(f)}}
			continue
		}
		lo, hi := float64(i)/scale, float64(i+1)/scale
		var taps []tap
		var sum float32
		for s := int(math.Floor(lo)); float64(s) < hi; s++ {
			w := float32(math.Min(hi, float64(s+1)) - math.Max(lo, float64(s)))
			if w <= 0 {
				continue
			}
			taps = append(taps, tap{min(max(s, 0), n-1), w})
			sum += w
		}
		for k := range taps {
			taps[k].w /= sum
		}
		out[i] = taps
	}
	return out
}

type tap struct {
	i int
	w float32
}

// flatTaps is axisWeights flattened for the inner loops: output i reads
// the source indices idx[start[i]:start[i+1]] with weights w.
type flatTaps struct {
	start []int32
	idx   []int32
	w     []float32
}

func flattenTaps(taps [][]tap) flatTaps {
	f := flatTaps{start: make([]int32, len(taps)+1)}
	for i, ts := range taps {
		for _, t := range ts {
			f.idx = append(f.idx, int32(t.i))
			f.w = append(f.w, t.w)
		}
		f.start[i+1] = int32(len(f.idx))
	}
	return f
}

// resize resamples the rectangle rc of the raster to tw×th RGB float32
// values (interleaved), streaming over source rows, on up to par
// goroutines (bands of output rows). An opaque raster is read straight
// from its bytes (no per-pixel compositing); a transparent one is
// composited a row at a time. The output comes from bufs.
func (r *raster) resize(rc image.Rectangle, tw, th, par int, bufs *floatBufs) []float32 {
	sw := rc.Dx()
	xt := flattenTaps(axisWeights(sw, tw))
	return resample(sw, rc.Dy(), tw, th, par, bufs, func() func(sy int, hrow []float32) {
		var row []float32
		if r.alpha {
			row = make([]float32, 3*sw)
		}
		return func(sy int, hrow []float32) {
			y := rc.Min.Y + sy
			if !r.alpha {
				pix := r.pix[y*r.stride+4*rc.Min.X : y*r.stride+4*rc.Max.X]
				hbytes(pix, xt, hrow)
				return
			}
			for sx := 0; sx < sw; sx++ {
				row[3*sx], row[3*sx+1], row[3*sx+2] = r.at(rc.Min.X+sx, y)
			}
			hfloats(row, xt, hrow)
		}
	})
}

// resizeRGB resamples interleaved RGB float32 values of sw×sh to tw×th
// (the whole detection pass of a print file from its high-resolution pass).
func resizeRGB(src []float32, sw, sh, tw, th, par int, bufs *floatBufs) []float32 {
	xt := flattenTaps(axisWeights(sw, tw))
	return resample(sw, sh, tw, th, par, bufs, func() func(sy int, hrow []float32) {
		return func(sy int, hrow []float32) {
			hfloats(src[3*sy*sw:3*(sy+1)*sw], xt, hrow)
		}
	})
}

// resample is a separable resampling of sw×sh to tw×th: a horizontal
// resampler (one per goroutine, from newHoriz) fills a source row already
// resampled horizontally (tw RGB values), and each is added to the output
// rows it feeds. The output rows are cut into up to par bands, each
// resampled on its own goroutine; a band adds its source rows in the same
// order as one pass over the whole image does, so the values are the same
// bits whatever par is (a source row that feeds two bands is resampled
// horizontally for each). The output (zeroed) comes from bufs.
func resample(sw, sh, tw, th, par int, bufs *floatBufs, newHoriz func() func(sy int, hrow []float32)) []float32 {
	yw := axisWeights(sh, th)
	out := bufs.get(tw*th*3, true)
	bands := max(1, min(par, th/8))
	forEach(bands, bands, func(b int) {
		y0, y1 := b*th/bands, (b+1)*th/bands
		// The source rows that feed output rows y0..y1-1, and which.
		lo, hi := sh, -1
		for oy := y0; oy < y1; oy++ {
			for _, t := range yw[oy] {
				lo, hi = min(lo, t.i), max(hi, t.i)
			}
		}
		if hi < lo {
			return
		}
		feeds := make([][]tap, hi-lo+1)
		for oy := y0; oy < y1; oy++ {
			for _, t := range yw[oy] {
				feeds[t.i-lo] = append(feeds[t.i-lo], tap{oy, t.w})
			}
		}
		horiz := newHoriz()
		hrow := make([]float32, tw*3)
		for sy := lo; sy <= hi; sy++ {
			if len(feeds[sy-lo]) == 0 {
				continue
			}
			horiz(sy, hrow)
			for _, f := range feeds[sy-lo] {
				o := out[f.i*tw*3 : (f.i+1)*tw*3]
				o = o[:len(hrow)]
				for k, v := range hrow {
					o[k] += v * f.w
				}
			}
		}
	})
	return out
}

// hbytes resamples one row of NRGBA bytes horizontally. Each output's
// taps are added in order, as before: one bounds check a tap, each
// output's taps read between the previous output's end and its own.
func hbytes(pix []uint8, xt flatTaps, hrow []float32) {
	n := len(xt.start) - 1
	hrow = hrow[:3*n]
	idx := xt.idx
	ws := xt.w[:len(idx)]
	k0 := int(xt.start[0])
	for ox := 0; ox < n; ox++ {
		k1 := int(xt.start[ox+1])
		var a, b, c float32
		for k := k0; k < k1; k++ {
			i := 4 * int(idx[k])
			p := pix[i : i+3 : i+3]
			w := ws[k]
			a += float32(p[0]) * w
			b += float32(p[1]) * w
			c += float32(p[2]) * w
		}
		k0 = k1
		h := hrow[3*ox : 3*ox+3 : 3*ox+3]
		h[0], h[1], h[2] = a, b, c
	}
}

// hfloats resamples one row of interleaved RGB float32 values
// horizontally (as hbytes).
func hfloats(row []float32, xt flatTaps, hrow []float32) {
	n := len(xt.start) - 1
	hrow = hrow[:3*n]
	idx := xt.idx
	ws := xt.w[:len(idx)]
	k0 := int(xt.start[0])
	for ox := 0; ox < n; ox++ {
		k1 := int(xt.start[ox+1])
		var a, b, c float32
		for k := k0; k < k1; k++ {
			i := 3 * int(idx[k])
			p := row[i : i+3 : i+3]
			w := ws[k]
			a += p[0] * w
			b += p[1] * w
			c += p[2] * w
		}
		k0 = k1
		h := hrow[3*ox : 3*ox+3 : 3*ox+3]
		h[0], h[1], h[2] = a, b, c
	}
}

// opaqueRow reports whether every pixel of a row of NRGBA bytes is
// opaque, two pixels a 64-bit word (a print file's row is 4,500 pixels).
func opaqueRow(row []uint8) bool {
	const alphas = 0xff000000_ff000000 // the alpha bytes of two pixels, little-endian
	i := 0
	for ; i+8 <= len(row); i += 8 {
		if binary.LittleEndian.Uint64(row[i:])&alphas != alphas {
			return false
		}
	}
	for i += 3; i < len(row); i += 4 {
		if row[i] != 0xff {
			return false
		}
	}
	return true
}
