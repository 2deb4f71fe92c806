// Package preprocess turns decoded designs into model input tensors exactly
// as nsfwjs does in the browser: RGB bytes divided by 255 in float32, then
// tf.image.resizeBilinear with alignCorners=true (tfjs-backend-cpu's kernel,
// reproduced operation for operation so the tensors are bit-identical).
package preprocess

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"
	"sync/atomic"

	"github.com/muster-dev/muster/internal/imaging"
)

// Pixels is an opaque 8-bit RGB(A) raster: 4 bytes per pixel, R, G, B first;
// the fourth byte is ignored.
type Pixels struct {
	Pix    []uint8
	Stride int
	Width  int
	Height int
}

// FromImage returns the design's pixels on an opaque background. Opaque
// designs are used as decoded; designs with transparency are composited onto
// bg with imaging.Image.Flatten (Porter-Duff "over").
func FromImage(im *imaging.Image, bg color.Color) Pixels {
	if !im.HasAlpha {
		n := im.NRGBA
		return Pixels{Pix: n.Pix, Stride: n.Stride, Width: n.Rect.Dx(), Height: n.Rect.Dy()}
	}
	f := im.Flatten(bg)
	return Pixels{Pix: f.Pix, Stride: f.Stride, Width: f.Rect.Dx(), Height: f.Rect.Dy()}
}

// RGB returns the pixels as packed RGB bytes, row by row (what the parity
// test hands to tfjs as an int32 [H,W,3] tensor).
func (p Pixels) RGB() []uint8 {
	out := make([]uint8, 0, p.Width*p.Height*3)
	for y := 0; y < p.Height; y++ {
		row := p.Pix[y*p.Stride:]
		for x := 0; x < p.Width; x++ {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}

// unit[v] is float32(v/255) as tfjs computes img.toFloat().div(255).
var unit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(float64(i) / 255)
	}
	return t
}()

// unit64 is unit widened to float64, as JavaScript reads a Float32Array.
var unit64 = func() (t [256]float64) {
	for i := range t {
		t[i] = float64(unit[i])
	}
	return t
}()

// ErrEmptyRegion is returned for a crop with no pixels.
var ErrEmptyRegion = errors.New("empty region")

// ResizeBilinear writes the region r of src, scaled to 0..1 and resized to
// outW×outH, into dst as HWC float32 (len(dst) must be outW*outH*3). When r
// already has the output size it is copied unresized, as nsfwjs does. The
// arithmetic follows tfjs-backend-cpu's ResizeBilinear kernel: source
// coordinates and blends in float64, each result rounded to float32.
func ResizeBilinear(dst []float32, src Pixels, r image.Rectangle, outW, outH int, alignCorners bool) error {
	r = r.Intersect(image.Rect(0, 0, src.Width, src.Height))
	if r.Empty() {
		return ErrEmptyRegion
	}
	if len(dst) != outW*outH*3 {
		return fmt.Errorf("resize: dst has %d values, want %d", len(dst), outW*outH*3)
	}
	inW, inH := r.Dx(), r.Dy()
	px := func(x, y int) []uint8 {
		o := (r.Min.Y+y)*src.Stride + (r.Min.X+x)*4
		return src.Pix[o : o+3]
	}
	if inW == outW && inH == outH {
		i := 0
		for y := 0; y < inH; y++ {
			for x := 0; x < inW; x++ {
				p := px(x, y)
				dst[i], dst[i+1], dst[i+2] = unit[p[0]], unit[p[1]], unit[p[2]]
				i += 3
			}
		}
		return nil
	}
	rows := bilinearPlan(inH, outH, alignCorners).shift(r.Min.Y)
	cols := bilinearPlan(inW, outW, alignCorners).shift(r.Min.X)
	resizeBilinearPlanned(dst, src, rows, cols, outW, outH)
	return nil
}

// samp is one output coordinate of a bilinear resize: the two source
// indices it blends and the weight of the second.
type samp struct {
	lo, hi int
	frac   float64
}

// plan is the sampling of one axis.
type plan []samp

// bilinearPlan samples in source pixels onto out output pixels as
// tfjs-backend-cpu's ResizeBilinear does (source coordinates in float64).
func bilinearPlan(in, out int, alignCorners bool) plan {
	effIn, effOut := float64(in), float64(out)
	if alignCorners && out > 1 {
		effIn, effOut = float64(in-1), float64(out-1)
	}
	ratio := effIn / effOut
	p := make(plan, out)
	for o := range p {
		f := ratio * float64(o)
		lo := int(math.Max(0, math.Floor(f)))
		p[o] = samp{lo: lo, hi: min(in-1, int(math.Ceil(f))), frac: f - float64(lo)}
	}
	return p
}

// shift moves every index by d.
func (p plan) shift(d int) plan {
	for i := range p {
		p[i].lo += d
		p[i].hi += d
	}
	return p
}

// used returns the source indices the plan reads, ascending, and for each
// source index its position in that list (-1 if unread).
func (p plan) used() (idx []int, at []int) {
	n := 0
	for _, s := range p {
		n = max(n, s.hi+1)
	}
	at = make([]int, n)
	for i := range at {
		at[i] = -1
	}
	for _, s := range p {
		at[s.lo], at[s.hi] = 0, 0
	}
	for i, a := range at {
		if a == 0 {
			at[i] = len(idx)
			idx = append(idx, i)
		}
	}
	return idx, at
}

// remap returns the plan reading from the gathered indices at[i].
func (p plan) remap(at []int) plan {
	q := make(plan, len(p))
	for i, s := range p {
		q[i] = samp{lo: at[s.lo], hi: at[s.hi], frac: s.frac}
	}
	return q
}

// resizeBilinearPlanned blends src's pixels at the planned rows and
// columns into dst: each value in float64 from the float32 unit values,
// rounded to float32 once (tfjs-backend-cpu's arithmetic).
func resizeBilinearPlanned(dst []float32, src Pixels, rows, cols plan, outW, outH int) {
	type col struct {
		lo, hi int
		frac   float64
	}
	cs := make([]col, outW)
	for c, s := range cols {
		cs[c] = col{lo: s.lo * 4, hi: s.hi * 4, frac: s.frac}
	}
	i := 0
	for rr := 0; rr < outH; rr++ {
		rowFrac := rows[rr].frac
		tRow := src.Pix[rows[rr].lo*src.Stride:]
		bRow := src.Pix[rows[rr].hi*src.Stride:]
		out := dst[i : i+outW*3]
		for k, c := range cs {
			tl, tr, bl, br := tRow[c.lo:c.lo+3], tRow[c.hi:c.hi+3], bRow[c.lo:c.lo+3], bRow[c.hi:c.hi+3]
			o := out[k*3 : k*3+3]
			for d := 0; d < 3; d++ {
				a, b := unit64[tl[d]], unit64[tr[d]]
				cc, e := unit64[bl[d]], unit64[br[d]]
				t := a + (b-a)*c.frac
				bo := cc + (e-cc)*c.frac
				o[d] = float32(t + (bo-t)*rowFrac)
			}
		}
		i += outW * 3
	}
}

// ResizeArea writes the region r of src, scaled to 0..1 and resized to
// outW×outH by area averaging (each output pixel is the mean of the source
// pixels it covers, fractional edges weighted), as float32 NHWC RGB into dst.
//
// It is not nsfwjs's resize: the whole design keeps ResizeBilinear, for
// parity. Tiles use this one, because decimating a 1350 px crop to 224 px by
// sampling four pixels per output pixel aliases grain noise, halftone dots and
// JPEG blocks into high-contrast speckle the model never saw in training (one
// cause of false flags on textured grounds, measured in docs/nsfw.md), while
// averaging shows the model the crop as a camera would.
func ResizeArea(dst []float32, src Pixels, r image.Rectangle, outW, outH int) error {
	r = r.Intersect(image.Rect(0, 0, src.Width, src.Height))
	if r.Empty() || outW < 1 || outH < 1 {
		return ErrEmptyRegion
	}
	if len(dst) != outW*outH*3 {
		return fmt.Errorf("preprocess: dst has %d values, want %d", len(dst), outW*outH*3)
	}
	xs := planArea(r.Dx(), outW)
	ys := planArea(r.Dy(), outH)
	// Separable: each source row is resized horizontally once (rows shared
	// by two output rows are not recomputed), then output rows sum the
	// source rows they cover in the same order as before, so the values
	// are the same bit for bit. The row buffer is pooled (a 360 px tile's
	// rows are 1.9 MB), the weights are cached per size.
	need := r.Dy() * outW * 3
	bp, _ := rowsPool.Get().(*[]float64)
	if bp == nil || cap(*bp) < need {
		b := make([]float64, need)
		bp = &b
	}
	rows := (*bp)[:need]
	defer rowsPool.Put(bp)
	for sy := 0; sy < r.Dy(); sy++ {
		so := (r.Min.Y+sy)*src.Stride + r.Min.X*4
		areaRow(rows[sy*outW*3:(sy+1)*outW*3:(sy+1)*outW*3], src.Pix[so:so+r.Dx()*4], xs)
	}
	areaColumns(dst, func(i int) []float64 { return rows[i*outW*3 : (i+1)*outW*3 : (i+1)*outW*3] }, ys, outW, outH)
	return nil
}

// areaRow resizes one source row (4 bytes per pixel) horizontally: each
// output pixel's R, G and B are the weighted sums of the source pixels
// it covers, in the plan's order.
func areaRow(row []float64, pix []uint8, xs *areaPlan) {
	for ox := 0; ox < len(row)/3; ox++ {
		var cr, cg, cb float64
		for t := xs.start[ox]; t < xs.start[ox+1]; t++ {
			i, w := int(xs.idx[t])*4, xs.w[t]
			p := pix[i : i+3 : i+3]
			cr += float64(p[0]) * w
			cg += float64(p[1]) * w
			cb += float64(p[2]) * w
		}
		o := row[ox*3 : ox*3+3 : ox*3+3]
		o[0], o[1], o[2] = cr, cg, cb
	}
}

// areaColumns sums, for each output row, the horizontally resized source
// rows it covers (row(i) is source row i of the region) in the plan's
// order, and writes them scaled to 0..1 as float32.
func areaColumns(dst []float32, row func(i int) []float64, ys *areaPlan, outW, outH int) {
	acc := make([]float64, outW*3)
	for oy := 0; oy < outH; oy++ {
		clear(acc)
		for t := ys.start[oy]; t < ys.start[oy+1]; t++ {
			r := row(int(ys.idx[t]))
			w := ys.w[t]
			for k, v := range r {
				acc[k] += v * w
			}
		}
		out := dst[oy*outW*3 : (oy+1)*outW*3]
		for k, v := range acc {
			out[k] = float32(v / 255)
		}
	}
}

// rowsPool holds ResizeArea's horizontally resized rows between calls.
var rowsPool sync.Pool

// areaPlan is areaWeights flattened: output o reads source indices
// idx[start[o]:start[o+1]] with weights w.
type areaPlan struct {
	start []int
	idx   []int32
	w     []float64
}

// areaPlans caches plans by [source, output] size: every tile of a design
// has the same size.
var areaPlans sync.Map

func planArea(n, m int) *areaPlan {
	key := [2]int{n, m}
	if p, ok := areaPlans.Load(key); ok {
		return p.(*areaPlan)
	}
	ws := areaWeights(n, m)
	p := &areaPlan{start: make([]int, m+1)}
	for o, ts := range ws {
		p.start[o] = len(p.idx)
		for _, t := range ts {
			p.idx = append(p.idx, int32(t.i))
			p.w = append(p.w, t.w)
		}
	}
	p.start[m] = len(p.idx)
	if areaPlansCount.Add(1) > 256 {
		// Sizes come from designs; keep the cache bounded.
		areaPlans.Clear()
		areaPlansCount.Store(0)
	}
	areaPlans.Store(key, p)
	return p
}

var areaPlansCount atomic.Int32

type tap struct {
	i int
	w float64
}

// areaWeights maps n source pixels onto m output pixels: for each output
// pixel the source pixels it covers with weights summing to 1.
func areaWeights(n, m int) [][]tap {
	out := make([][]tap, m)
	scale := float64(n) / float64(m)
	for o := range out {
		a, b := float64(o)*scale, float64(o+1)*scale
		for i := int(math.Floor(a)); i < int(math.Ceil(b)) && i < n; i++ {
			w := math.Min(b, float64(i+1)) - math.Max(a, float64(i))
			if w > 1e-9 {
				out[o] = append(out[o], tap{i, w / scale})
			}
		}
	}
	return out
}

// BoxDownscale averages k×k blocks of src into one pixel (the last row and
// column of blocks may be partial): an area pre-filter computed once per
// design, so tiles cut from the result and resized to the model input are
// not decimated. k ≤ 1 returns src.
func BoxDownscale(src Pixels, k int) Pixels {
	if k <= 1 {
		return src
	}
	ow, oh := (src.Width+k-1)/k, (src.Height+k-1)/k
	out := Pixels{Pix: make([]uint8, ow*oh*4), Stride: ow * 4, Width: ow, Height: oh}
	sum := make([]uint32, ow*3)
	for oy := 0; oy < oh; oy++ {
		clear(sum)
		y0, y1 := oy*k, min(src.Height, oy*k+k)
		for y := y0; y < y1; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+src.Width*4]
			for ox := 0; ox < ow; ox++ {
				x0, x1 := ox*k, min(src.Width, ox*k+k)
				var r, g, b uint32
				for p := x0 * 4; p < x1*4; p += 4 {
					r += uint32(row[p])
					g += uint32(row[p+1])
					b += uint32(row[p+2])
				}
				sum[ox*3] += r
				sum[ox*3+1] += g
				sum[ox*3+2] += b
			}
		}
		for ox := 0; ox < ow; ox++ {
			n := uint32((y1 - y0) * (min(src.Width, ox*k+k) - ox*k))
			o := oy*out.Stride + ox*4
			out.Pix[o] = uint8((sum[ox*3] + n/2) / n)
			out.Pix[o+1] = uint8((sum[ox*3+1] + n/2) / n)
			out.Pix[o+2] = uint8((sum[ox*3+2] + n/2) / n)
			out.Pix[o+3] = 255
		}
	}
	return out
}
