package match

import (
	"image"
	"math"
	"math/bits"

	"github.com/muster-dev/muster/internal/threshold"
)

// Mask is a soft single-channel image: 0 is background, 255 is shape.
type Mask struct {
	W, H int
	Pix  []uint8
}

// NewMask returns an empty w×h mask.
func NewMask(w, h int) Mask { return Mask{W: w, H: h, Pix: make([]uint8, w*h)} }

// MaskFromAlpha takes the alpha channel of img as a mask (a rendered logo or
// symbol on a transparent background).
func MaskFromAlpha(img *image.NRGBA) Mask {
	b := img.Rect
	m := NewMask(b.Dx(), b.Dy())
	for y := 0; y < m.H; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < m.W; x++ {
			m.Pix[y*m.W+x] = row[x*4+3]
		}
	}
	return m
}

// MaskFromImage binarises an opaque picture of a shape: the polarity whose
// pixels touch the image border less is taken as the shape. Pictures with an
// alpha channel use the alpha channel instead.
func MaskFromImage(img *image.NRGBA) Mask {
	if !opaqueNRGBA(img) {
		return MaskFromAlpha(img)
	}
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	lum := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			p := row[x*4:]
			lum[y*w+x] = uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])) / 1000)
		}
	}
	t := otsu(lum)
	m := NewMask(w, h)
	border, fg := 0, 0
	for i, v := range lum {
		if v <= t {
			m.Pix[i] = 255
		}
	}
	for x := 0; x < w; x++ {
		border += 2
		fg += int(m.Pix[x]&1) + int(m.Pix[(h-1)*w+x]&1)
	}
	for y := 0; y < h; y++ {
		border += 2
		fg += int(m.Pix[y*w]&1) + int(m.Pix[y*w+w-1]&1)
	}
	if fg*2 > border {
		for i := range m.Pix {
			m.Pix[i] = 255 - m.Pix[i]
		}
	}
	return m
}

func opaqueNRGBA(n *image.NRGBA) bool {
	for y := 0; y < n.Rect.Dy(); y++ {
		row := n.Pix[y*n.Stride : y*n.Stride+n.Rect.Dx()*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xFF {
				return false
			}
		}
	}
	return true
}

func otsu(v []uint8) uint8 {
	var hist [256]int
	for _, x := range v {
		hist[x]++
	}
	return uint8(threshold.Otsu(&hist))
}

// Bounds is the tight box of pixels ≥ thr (empty if none).
func (m Mask) Bounds(thr uint8) image.Rectangle {
	x0, y0, x1, y1 := m.W, m.H, -1, -1
	for y := 0; y < m.H; y++ {
		row := m.Pix[y*m.W : (y+1)*m.W]
		for x, v := range row {
			if v >= thr {
				if x < x0 {
					x0 = x
				}
				if x > x1 {
					x1 = x
				}
				if y < y0 {
					y0 = y
				}
				y1 = y
			}
		}
	}
	if x1 < 0 {
		return image.Rectangle{}
	}
	return image.Rect(x0, y0, x1+1, y1+1)
}

// Crop copies r out of m.
func (m Mask) Crop(r image.Rectangle) Mask {
	r = r.Intersect(image.Rect(0, 0, m.W, m.H))
	out := NewMask(r.Dx(), r.Dy())
	for y := 0; y < out.H; y++ {
		copy(out.Pix[y*out.W:(y+1)*out.W], m.Pix[(r.Min.Y+y)*m.W+r.Min.X:])
	}
	return out
}

// Trim crops m to the tight box of pixels ≥ 128.
func (m Mask) Trim() Mask { return m.Crop(m.Bounds(128)) }

// Resize resamples m to w×h by area averaging (down) or bilinear
// interpolation (up), stretching if the aspect ratio differs.
func (m Mask) Resize(w, h int) Mask {
	out := NewMask(w, h)
	if m.W == 0 || m.H == 0 {
		return out
	}
	sx := float64(m.W) / float64(w)
	sy := float64(m.H) / float64(h)
	if sx >= 1 && sy >= 1 {
		// Area average with fractional edge weights.
		xs := spans(m.W, w)
		ys := spans(m.H, h)
		acc := make([]float64, w)
		for oy := 0; oy < h; oy++ {
			clear(acc)
			var wsum float64
			for _, sy := range ys[oy] {
				row := m.Pix[sy.i*m.W:]
				for ox := 0; ox < w; ox++ {
					var s float64
					for _, sx := range xs[ox] {
						s += float64(row[sx.i]) * sx.w
					}
					acc[ox] += s * sy.w
				}
				wsum += sy.w
			}
			for ox := 0; ox < w; ox++ {
				var xw float64
				for _, sx := range xs[ox] {
					xw += sx.w
				}
				out.Pix[oy*w+ox] = uint8(math.Round(acc[ox] / (wsum * xw)))
			}
		}
		return out
	}
	for oy := 0; oy < h; oy++ {
		fy := (float64(oy)+0.5)*sy - 0.5
		for ox := 0; ox < w; ox++ {
			fx := (float64(ox)+0.5)*sx - 0.5
			out.Pix[oy*w+ox] = m.bilinear(fx, fy)
		}
	}
	return out
}

type span struct {
	i int
	w float64
}

// spans lists, for each of n output cells, the source indices and weights
// covering it when size src is squeezed into n cells.
func spans(src, n int) [][]span {
	out := make([][]span, n)
	scale := float64(src) / float64(n)
	for o := 0; o < n; o++ {
		a, b := float64(o)*scale, float64(o+1)*scale
		for i := int(a); i < src && float64(i) < b; i++ {
			lo, hi := math.Max(a, float64(i)), math.Min(b, float64(i+1))
			if hi > lo {
				out[o] = append(out[o], span{i, hi - lo})
			}
		}
	}
	return out
}

func (m Mask) at(x, y int) float64 {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return 0
	}
	return float64(m.Pix[y*m.W+x])
}

func (m Mask) bilinear(fx, fy float64) uint8 {
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	ax, ay := fx-float64(x0), fy-float64(y0)
	v := m.at(x0, y0)*(1-ax)*(1-ay) + m.at(x0+1, y0)*ax*(1-ay) + m.at(x0, y0+1)*(1-ax)*ay + m.at(x0+1, y0+1)*ax*ay
	return uint8(math.Round(v))
}

// Rotate turns m by deg degrees (counter-clockwise on screen for positive
// angles) about its centre onto a canvas large enough to hold the result.
func (m Mask) Rotate(deg float64) Mask {
	if deg == 0 {
		return m
	}
	rad := deg * math.Pi / 180
	c, s := math.Cos(rad), math.Sin(rad)
	w := int(math.Ceil(math.Abs(float64(m.W)*c) + math.Abs(float64(m.H)*s)))
	h := int(math.Ceil(math.Abs(float64(m.W)*s) + math.Abs(float64(m.H)*c)))
	out := NewMask(w, h)
	cx, cy := float64(m.W)/2, float64(m.H)/2
	ox, oy := float64(w)/2, float64(h)/2
	W, H := m.W, m.H
	for y := 0; y < h; y++ {
		dy := float64(y) + 0.5 - oy
		dx0 := 0.5 - ox
		// inverse rotation (screen y points down), stepped along the row
		sx := c*dx0 - s*dy + cx - 0.5
		sy := s*dx0 + c*dy + cy - 0.5
		row := out.Pix[y*w : (y+1)*w]
		for x := range row {
			if sx > -1 && sy > -1 && sx < float64(W) && sy < float64(H) {
				x0, y0 := int(sx+1)-1, int(sy+1)-1 // floor for values > -1
				ax, ay := sx-float64(x0), sy-float64(y0)
				var p00, p10, p01, p11 float64
				if y0 >= 0 {
					r := m.Pix[y0*W:]
					if x0 >= 0 {
						p00 = float64(r[x0])
					}
					if x0+1 < W {
						p10 = float64(r[x0+1])
					}
				}
				if y0+1 < H {
					r := m.Pix[(y0+1)*W:]
					if x0 >= 0 {
						p01 = float64(r[x0])
					}
					if x0+1 < W {
						p11 = float64(r[x0+1])
					}
				}
				v := p00*(1-ax)*(1-ay) + p10*ax*(1-ay) + p01*(1-ax)*ay + p11*ax*ay
				row[x] = uint8(v + 0.5)
			}
			sx += c
			sy += s
		}
	}
	return out
}

// Dihedral applies one of the 8 symmetries of the square: k&3 quarter turns,
// mirrored horizontally first when k&4 != 0.
func (m Mask) Dihedral(k int) Mask {
	src := m
	if k&4 != 0 {
		f := NewMask(m.W, m.H)
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				f.Pix[y*m.W+x] = m.Pix[y*m.W+m.W-1-x]
			}
		}
		src = f
	}
	for r := 0; r < k&3; r++ {
		t := NewMask(src.H, src.W)
		for y := 0; y < src.H; y++ {
			for x := 0; x < src.W; x++ {
				// quarter turn counter-clockwise: (x,y) -> (y, W-1-x)
				t.Pix[(src.W-1-x)*t.W+y] = src.Pix[y*src.W+x]
			}
		}
		src = t
	}
	return src
}

// Invert returns 255-m.
func (m Mask) Invert() Mask {
	out := NewMask(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = 255 - v
	}
	return out
}

// Coverage is the mean value of m in [0,1].
func (m Mask) Coverage() float64 {
	if len(m.Pix) == 0 {
		return 0
	}
	var s int
	for _, v := range m.Pix {
		s += int(v)
	}
	return float64(s) / float64(255*len(m.Pix))
}

// tmplSize is the side of the verification templates.
const tmplSize = 48

// template is a tmplSize×tmplSize bitmap, one word per row (bit x = column x).
type template [tmplSize]uint64

// makeTemplate stretches the tight box of m into a template.
func makeTemplate(m Mask) (template, float64) {
	return templateOf(m.Trim(), Mask.Resize)
}

// queryTemplate is makeTemplate for a candidate region, by the query
// side's tight and shrink.
func queryTemplate(m Mask) (template, float64) {
	return templateOf(m.tight(), Mask.shrink)
}

// templateOf stretches tm (trimmed) into a template with resize.
func templateOf(tm Mask, resize func(Mask, int, int) Mask) (template, float64) {
	var t template
	if tm.W == 0 || tm.H == 0 {
		return t, 1
	}
	aspect := float64(tm.W) / float64(tm.H)
	r := resize(tm, tmplSize, tmplSize)
	for y := 0; y < tmplSize; y++ {
		for x := 0; x < tmplSize; x++ {
			if r.Pix[y*tmplSize+x] >= 128 {
				t[y] |= 1 << x
			}
		}
	}
	return t, aspect
}

// dihedral applies the transform Mask.Dihedral(k) applies, to a template.
func (t *template) dihedral(k int) template {
	src := *t
	if k&4 != 0 {
		var f template
		for y := 0; y < tmplSize; y++ {
			f[y] = bits.Reverse64(src[y]) >> (64 - tmplSize)
		}
		src = f
	}
	for r := 0; r < k&3; r++ {
		var q template
		// quarter turn counter-clockwise: (x,y) -> (y, N-1-x)
		for y := 0; y < tmplSize; y++ {
			w := src[y]
			for w != 0 {
				x := bits.TrailingZeros64(w)
				w &= w - 1
				q[tmplSize-1-x] |= 1 << y
			}
		}
		src = q
	}
	return src
}

// boundary returns the shape's pixels that have a 4-neighbour outside it.
func (t *template) boundary() template {
	var out template
	for y := 0; y < tmplSize; y++ {
		up, down := uint64(0), uint64(0)
		if y > 0 {
			up = t[y-1]
		}
		if y < tmplSize-1 {
			down = t[y+1]
		}
		inner := t[y] & (t[y] << 1) & (t[y] >> 1) & up & down
		out[y] = t[y] &^ inner
	}
	return out
}

// overlap is the intersection over union of two templates as they lie.
func overlap(a, b *template) float64 {
	var inter, union int
	for y := 0; y < tmplSize; y++ {
		inter += bits.OnesCount64(a[y] & b[y])
		union += bits.OnesCount64(a[y] | b[y])
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func (t *template) count() int {
	n := 0
	for _, w := range t {
		n += bits.OnesCount64(w)
	}
	return n
}

const rowMask = (1 << tmplSize) - 1

// dilate returns t grown by one pixel in the 8-neighbourhood.
func (t *template) dilate() template {
	var h template
	for y := 0; y < tmplSize; y++ {
		h[y] = (t[y] | t[y]<<1 | t[y]>>1) & rowMask
	}
	var out template
	for y := 0; y < tmplSize; y++ {
		v := h[y]
		if y > 0 {
			v |= h[y-1]
		}
		if y < tmplSize-1 {
			v |= h[y+1]
		}
		out[y] = v
	}
	return out
}

func shifted(t *template, dx, dy int) template {
	var out template
	for y := 0; y < tmplSize; y++ {
		sy := y - dy
		if sy < 0 || sy >= tmplSize {
			continue
		}
		w := t[sy]
		if dx > 0 {
			w <<= uint(dx)
		} else if dx < 0 {
			w >>= uint(-dx)
		}
		out[y] = w & rowMask
	}
	return out
}

// similarity compares two templates allowing a shift of up to maxShift
// pixels. It returns the best intersection over union of the shapes and the
// best tolerant F-score of their outlines (an outline pixel counts as matched
// when the other outline passes within one pixel); the outline score is what
// tells a detailed logo from a blob of the same silhouette.
func similarity(q, r *template, maxShift int) (iou, edgeF float64) {
	iou, _, edgeF = similarityTol(q, r, maxShift)
	return iou, edgeF
}

// similarityTol is similarity that also returns the shapes' overlap with a
// 1 px tolerance: the smaller of the shares of either shape's pixels that
// lie within 1 px of the other. For thin line art, which JPEG and
// resampling thicken or thin by a pixel, it says what IoU says for solid
// shapes.
func similarityTol(q, r *template, maxShift int) (iou, tolIoU, edgeF float64) {
	nq, nr := q.count(), r.count()
	if nq == 0 || nr == 0 {
		return 0, 0, 0
	}
	qd := q.dilate()
	qe := q.boundary()
	qed := qe.dilate()
	re := r.boundary()
	red := re.dilate()
	neq, ner := qe.count(), re.count()
	for dy := -maxShift; dy <= maxShift; dy++ {
		for dx := -maxShift; dx <= maxShift; dx++ {
			rs := shifted(r, dx, dy)
			rsd := rs.dilate()
			var inter, union, qIn, rIn int
			for y := 0; y < tmplSize; y++ {
				inter += bits.OnesCount64(q[y] & rs[y])
				union += bits.OnesCount64(q[y] | rs[y])
				qIn += bits.OnesCount64(q[y] & rsd[y])
				rIn += bits.OnesCount64(rs[y] & qd[y])
			}
			if u := float64(inter) / float64(union); u > iou {
				iou = u
			}
			if t := min(float64(qIn)/float64(nq), float64(rIn)/float64(max(1, rs.count()))); t > tolIoU {
				tolIoU = t
			}
			res := shifted(&re, dx, dy)
			resd := shifted(&red, dx, dy)
			var qHit, rHit int
			for y := 0; y < tmplSize; y++ {
				qHit += bits.OnesCount64(qe[y] & resd[y])
				rHit += bits.OnesCount64(res[y] & qed[y])
			}
			p := float64(qHit) / float64(neq)
			rc := float64(rHit) / float64(ner)
			if p+rc > 0 {
				if f := 2 * p * rc / (p + rc); f > edgeF {
					edgeF = f
				}
			}
		}
	}
	return iou, tolIoU, edgeF
}

// tight returns m when it is already trimmed to its tight box (a pixel
// of 128 or more on each of its four edges), else m.Trim(): candidate
// regions are built on their components' boxes, so the copy Trim makes
// is usually a waste (match-9: latency).
func (m Mask) tight() Mask {
	if m.W == 0 || m.H == 0 {
		return m
	}
	edge := func(start, step, n int) bool {
		for i, p := 0, start; i < n; i, p = i+1, p+step {
			if m.Pix[p] >= 128 {
				return true
			}
		}
		return false
	}
	if edge(0, 1, m.W) && edge((m.H-1)*m.W, 1, m.W) && edge(0, m.W, m.H) && edge(m.W-1, m.W, m.H) {
		return m
	}
	return m.Trim()
}

// shrink is Resize for reducing (w ≤ m.W, h ≤ m.H), computed by runs: a
// cell's source pixels between its two fractional edge pixels weigh
// exactly 1 and are summed as integers. It equals Resize up to the
// rounding of exact halves (TestShrinkEqualsResize) at a fraction of the
// cost; matching uses it on the query side only (references are prepared
// by Resize, as their stored encoding was). Enlarging falls back to
// Resize.
func (m Mask) shrink(w, h int) Mask {
	if m.W == 0 || m.H == 0 || w > m.W || h > m.H {
		return m.Resize(w, h)
	}
	type run struct {
		i0, i1 int
		w0, w1 float64
		sum    float64
	}
	runsOf := func(src, n int) []run {
		out := make([]run, n)
		for o, sp := range spans(src, n) {
			r := run{i0: sp[0].i, i1: sp[len(sp)-1].i, w0: sp[0].w, w1: sp[len(sp)-1].w}
			for _, s := range sp {
				r.sum += s.w
			}
			out[o] = r
		}
		return out
	}
	xs, ys := runsOf(m.W, w), runsOf(m.H, h)
	out := NewMask(w, h)
	acc := make([]float64, w)
	for oy, ry := range ys {
		clear(acc)
		for sy := ry.i0; sy <= ry.i1; sy++ {
			wy := 1.0
			switch sy {
			case ry.i0:
				wy = ry.w0
			case ry.i1:
				wy = ry.w1
			}
			row := m.Pix[sy*m.W : (sy+1)*m.W]
			for ox, rx := range xs {
				s := rx.w0 * float64(row[rx.i0])
				if rx.i1 > rx.i0 {
					mid := 0
					for _, v := range row[rx.i0+1 : rx.i1] {
						mid += int(v)
					}
					s += float64(mid) + rx.w1*float64(row[rx.i1])
				}
				acc[ox] += s * wy
			}
		}
		for ox, rx := range xs {
			out.Pix[oy*w+ox] = uint8(math.Round(acc[ox] / (ry.sum * rx.sum)))
		}
	}
	return out
}
