package match

import (
	"image"
	"math/rand/v2"
)

// work is the design reduced for analysis: trimmed to its content and scaled
// so that its longer side is at most Config.WorkSize.
type work struct {
	W, H       int
	R, G, B, A []uint8
	hasAlpha   bool
	scale      float64     // design pixels per work pixel
	trimmed    bool        // a uniform border was cut off
	fullAspect float64     // the design's width/height before trimming
	off        image.Point // design coordinates of work (0,0)
}

// toDesign maps a work-space rectangle to design pixel coordinates.
func (w *work) toDesign(r image.Rectangle) image.Rectangle {
	f := func(v int) int { return int(float64(v)*w.scale + 0.5) }
	return image.Rect(w.off.X+f(r.Min.X), w.off.Y+f(r.Min.Y), w.off.X+f(r.Max.X), w.off.Y+f(r.Max.Y))
}

// fromDesign maps a design rectangle to work coordinates.
func (w *work) fromDesign(r image.Rectangle) image.Rectangle {
	f := func(v, o int) int { return int(float64(v-o)/w.scale + 0.5) }
	return image.Rect(f(r.Min.X, w.off.X), f(r.Min.Y, w.off.Y), f(r.Max.X, w.off.X), f(r.Max.Y, w.off.Y)).Intersect(image.Rect(0, 0, w.W, w.H))
}

// trimBox returns the part of src inside uniform (or fully transparent)
// borders.
func trimBox(src *image.NRGBA, tol int) image.Rectangle {
	b := src.Rect
	if b.Empty() {
		return b
	}
	ref := src.Pix[0:4]
	same := func(x, y int) bool {
		p := src.Pix[(y-b.Min.Y)*src.Stride+(x-b.Min.X)*4:]
		if p[3] < 16 && ref[3] < 16 {
			return true
		}
		for c := 0; c < 4; c++ {
			d := int(p[c]) - int(ref[c])
			if d > tol || d < -tol {
				return false
			}
		}
		return true
	}
	rowUniform := func(y, x0, x1 int) bool {
		for x := x0; x < x1; x++ {
			if !same(x, y) {
				return false
			}
		}
		return true
	}
	colUniform := func(x, y0, y1 int) bool {
		for y := y0; y < y1; y++ {
			if !same(x, y) {
				return false
			}
		}
		return true
	}
	y0, y1, x0, x1 := b.Min.Y, b.Max.Y, b.Min.X, b.Max.X
	for y0 < y1 && rowUniform(y0, x0, x1) {
		y0++
	}
	for y1 > y0 && rowUniform(y1-1, x0, x1) {
		y1--
	}
	for x0 < x1 && colUniform(x0, y0, y1) {
		x0++
	}
	for x1 > x0 && colUniform(x1-1, y0, y1) {
		x1--
	}
	if x1 <= x0 || y1 <= y0 {
		return b
	}
	// Keep a small margin so shapes touching the content edge keep their outline.
	m := max((x1-x0)/50, (y1-y0)/50, 2)
	return image.Rect(x0-m, y0-m, x1+m, y1+m).Intersect(b)
}

// prepare trims src to its content and area-averages it down to at most
// maxSide on the longer side; colour is composited onto white and alpha is
// kept separately.
func prepare(src *image.NRGBA, maxSide int) *work {
	tb := trimBox(src, 12)
	sw, sh := tb.Dx(), tb.Dy()
	scale := 1.0
	if m := max(sw, sh); m > maxSide {
		scale = float64(m) / float64(maxSide)
	}
	w := max(1, int(float64(sw)/scale+0.5))
	h := max(1, int(float64(sh)/scale+0.5))
	out := &work{W: w, H: h, scale: float64(sw) / float64(w), off: tb.Min,
		trimmed: tb != src.Rect, fullAspect: float64(src.Rect.Dx()) / float64(src.Rect.Dy())}
	n := w * h
	out.R, out.G, out.B, out.A = make([]uint8, n), make([]uint8, n), make([]uint8, n), make([]uint8, n)
	xs := make([]int, w+1)
	for i := range xs {
		xs[i] = tb.Min.X + i*sw/w
	}
	var sr, sg, sb, sa []uint32
	sr, sg, sb, sa = make([]uint32, w), make([]uint32, w), make([]uint32, w), make([]uint32, w)
	for oy := 0; oy < h; oy++ {
		ya, yb := tb.Min.Y+oy*sh/h, tb.Min.Y+(oy+1)*sh/h
		if yb <= ya {
			yb = ya + 1
		}
		clear(sr)
		clear(sg)
		clear(sb)
		clear(sa)
		for y := ya; y < yb; y++ {
			row := src.Pix[(y-src.Rect.Min.Y)*src.Stride:]
			for ox := 0; ox < w; ox++ {
				xa, xb := xs[ox], xs[ox+1]
				if xb <= xa {
					xb = xa + 1
				}
				var r, g, bb, a uint32
				for x := xa; x < xb; x++ {
					p := row[(x-src.Rect.Min.X)*4:]
					al := uint32(p[3])
					// composite onto white: c*a + 255*(255-a), scaled by 255
					r += uint32(p[0])*al + 255*(255-al)
					g += uint32(p[1])*al + 255*(255-al)
					bb += uint32(p[2])*al + 255*(255-al)
					a += al
				}
				sr[ox] += r
				sg[ox] += g
				sb[ox] += bb
				sa[ox] += a
			}
		}
		for ox := 0; ox < w; ox++ {
			xa, xb := xs[ox], xs[ox+1]
			if xb <= xa {
				xb = xa + 1
			}
			cnt := uint32((xb - xa) * (yb - ya))
			i := oy*w + ox
			out.R[i] = uint8(sr[ox] / (cnt * 255))
			out.G[i] = uint8(sg[ox] / (cnt * 255))
			out.B[i] = uint8(sb[ox] / (cnt * 255))
			out.A[i] = uint8(sa[ox] / cnt)
			if out.A[i] < 250 {
				out.hasAlpha = true
			}
		}
	}
	return out
}

// quantize clusters the work image's colours with k-means (k-means++ seeding
// from a fixed seed, so results are deterministic) and returns one cluster
// label per pixel.
func quantize(w *work, k, iters int) []uint8 {
	n := w.W * w.H
	step := max(1, n/4096)
	type px struct{ r, g, b float32 }
	var sample []px
	for i := 0; i < n; i += step {
		sample = append(sample, px{float32(w.R[i]), float32(w.G[i]), float32(w.B[i])})
	}
	rng := rand.New(rand.NewPCG(0x6d75, 0x7374)) // fixed seed: deterministic
	dist := func(a, b px) float32 {
		dr, dg, db := a.r-b.r, a.g-b.g, a.b-b.b
		return dr*dr + dg*dg + db*db
	}
	centres := []px{sample[rng.IntN(len(sample))]}
	d2 := make([]float32, len(sample))
	for len(centres) < k {
		var total float64
		for i, s := range sample {
			best := float32(1e30)
			for _, c := range centres {
				best = min(best, dist(s, c))
			}
			d2[i] = best
			total += float64(best)
		}
		if total == 0 {
			break
		}
		t := rng.Float64() * total
		pick := len(sample) - 1
		for i, v := range d2 {
			t -= float64(v)
			if t <= 0 {
				pick = i
				break
			}
		}
		centres = append(centres, sample[pick])
	}
	assign := make([]int, len(sample))
	for it := 0; it < iters; it++ {
		sums := make([][4]float64, len(centres))
		for i, s := range sample {
			bi, bd := 0, float32(1e30)
			for j, c := range centres {
				if d := dist(s, c); d < bd {
					bi, bd = j, d
				}
			}
			assign[i] = bi
			sums[bi][0] += float64(s.r)
			sums[bi][1] += float64(s.g)
			sums[bi][2] += float64(s.b)
			sums[bi][3]++
		}
		for j := range centres {
			if sums[j][3] > 0 {
				centres[j] = px{float32(sums[j][0] / sums[j][3]), float32(sums[j][1] / sums[j][3]), float32(sums[j][2] / sums[j][3])}
			}
		}
	}
	labels := make([]uint8, n)
	resid := make([]float32, n)
	for i := 0; i < n; i++ {
		p := px{float32(w.R[i]), float32(w.G[i]), float32(w.B[i])}
		bi, bd := 0, float32(1e30)
		for j, c := range centres {
			if d := dist(p, c); d < bd {
				bi, bd = j, d
			}
		}
		labels[i], resid[i] = uint8(bi), bd
	}
	// Colours the sample missed. k-means on a sample of 4,096 pixels gives a
	// small logo in a colour of its own (5–12 % of the design: a few dozen
	// samples, fewer for thin art) no cluster when a gradient or a photo
	// spreads the other clusters: its pixels join the nearest background
	// band. Pixels far from every centre are counted in a coarse colour
	// histogram and the fullest bin becomes a centre of its own, up to
	// extraClusters times.
	minOutliers := max(24, n/4000)
	for extra := 0; extra < extraClusters; extra++ {
		var hist [4096]int32
		var sums [4096][3]float32
		outliers := 0
		for i := 0; i < n; i++ {
			if resid[i] <= outlierDist*outlierDist {
				continue
			}
			b := int(w.R[i]>>4)<<8 | int(w.G[i]>>4)<<4 | int(w.B[i]>>4)
			hist[b]++
			sums[b][0] += float32(w.R[i])
			sums[b][1] += float32(w.G[i])
			sums[b][2] += float32(w.B[i])
			outliers++
		}
		if outliers < minOutliers {
			break
		}
		bb := 0
		for b, c := range hist {
			if c > hist[bb] {
				bb = b
			}
		}
		if int(hist[bb]) < minOutliers/2 {
			break
		}
		c := px{sums[bb][0] / float32(hist[bb]), sums[bb][1] / float32(hist[bb]), sums[bb][2] / float32(hist[bb])}
		lab := uint8(len(centres))
		centres = append(centres, c)
		for i := 0; i < n; i++ {
			p := px{float32(w.R[i]), float32(w.G[i]), float32(w.B[i])}
			if d := dist(p, c); d < resid[i] {
				labels[i], resid[i] = lab, d
			}
		}
	}
	return labels
}

// Colour clusters added for pixels the k-means sample missed (quantize):
// at most extraClusters, for pixels farther than outlierDist (RGB units)
// from every centre.
const (
	extraClusters = 4
	outlierDist   = 56
)

// component is a connected set of pixels sharing one label.
type component struct {
	layer int // which label map (colour clusters or alpha)
	label uint8
	area  int
	box   image.Rectangle
	pix   []int32 // pixel indices into the work image
}

// components labels the 8-connected regions of equal label in labels,
// skipping pixels whose label is skip (pass 255 to keep all).
//
// Every pixel belongs to one component at most, so the components' pixel
// lists are consecutive pieces of one buffer (a noisy photo ground has tens
// of thousands of components: one list each cost more than the labelling).
func components(labels []uint8, w, h int, skip uint8, layer int) []component {
	seen := make([]bool, len(labels))
	out := make([]component, 0, 256)
	stack := make([]int32, 0, 1024)
	buf := make([]int32, 0, len(labels))
	W := int32(w)
	nb := [8]int32{-W - 1, -W, -W + 1, -1, 1, W - 1, W, W + 1}
	for start := range labels {
		if seen[start] || labels[start] == skip {
			continue
		}
		lab := labels[start]
		c := component{layer: layer, label: lab, box: image.Rectangle{Min: image.Pt(w, h), Max: image.Pt(-1, -1)}}
		stack = append(stack[:0], int32(start))
		seen[start] = true
		first := len(buf)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			buf = append(buf, p) // never grows: len(labels) pixels at most
			yy := uint32(p) / uint32(w)
			x, y := int(uint32(p)-yy*uint32(w)), int(yy)
			c.box.Min.X = min(c.box.Min.X, x)
			c.box.Min.Y = min(c.box.Min.Y, y)
			c.box.Max.X = max(c.box.Max.X, x+1)
			c.box.Max.Y = max(c.box.Max.Y, y+1)
			if x > 0 && y > 0 && x < w-1 && y < h-1 {
				// Inside the image: the eight neighbours by offset, in
				// the order of the general loop below.
				for _, d := range nb {
					q := p + d
					if !seen[q] && labels[q] == lab {
						seen[q] = true
						stack = append(stack, q)
					}
				}
				continue
			}
			for dy := -1; dy <= 1; dy++ {
				ny := y + dy
				if ny < 0 || ny >= h {
					continue
				}
				for dx := -1; dx <= 1; dx++ {
					nx := x + dx
					if nx < 0 || nx >= w {
						continue
					}
					q := ny*w + nx
					if !seen[q] && labels[q] == lab {
						seen[q] = true
						stack = append(stack, int32(q))
					}
				}
			}
		}
		c.pix = buf[first:len(buf):len(buf)]
		c.area = len(c.pix)
		out = append(out, c)
	}
	return out
}
