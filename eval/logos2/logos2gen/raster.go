package logos2gen

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	xdraw "golang.org/x/image/draw"
)

// warp turns src by deg degrees about its centre and moves each corner by
// up to persp × its longer side (a slight perspective), on the raster: the
// result is sampled bilinearly (premultiplied) from src through the inverse
// homography, on a canvas holding the whole warped image.
func warp(src *image.NRGBA, deg, persp float64, rng *rand.Rand) *image.NRGBA {
	w, h := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	cx, cy := w/2, h/2
	rad := deg * math.Pi / 180
	cs, sn := math.Cos(rad), math.Sin(rad)
	side := math.Max(w, h)
	srcPts := [4][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}}
	var dst [4][2]float64
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i, p := range srcPts {
		x, y := p[0]-cx, p[1]-cy
		dx, dy := x*cs-y*sn, x*sn+y*cs
		if persp > 0 {
			dx += (rng.Float64()*2 - 1) * persp * side
			dy += (rng.Float64()*2 - 1) * persp * side
		}
		dst[i] = [2]float64{dx, dy}
		minX, minY = math.Min(minX, dx), math.Min(minY, dy)
		maxX, maxY = math.Max(maxX, dx), math.Max(maxY, dy)
	}
	for i := range dst {
		dst[i][0] -= minX - 1
		dst[i][1] -= minY - 1
	}
	ow, oh := int(math.Ceil(maxX-minX))+2, int(math.Ceil(maxY-minY))+2
	hm := homography(dst, srcPts) // output → source
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	at := func(x, y int) (r, g, b, a float64) {
		if x < 0 || y < 0 || x >= sw || y >= sh {
			return 0, 0, 0, 0
		}
		p := src.Pix[y*src.Stride+x*4:]
		a = float64(p[3]) / 255
		return float64(p[0]) * a, float64(p[1]) * a, float64(p[2]) * a, a
	}
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			d := hm[6]*fx + hm[7]*fy + hm[8]
			sx := (hm[0]*fx+hm[1]*fy+hm[2])/d - 0.5
			sy := (hm[3]*fx+hm[4]*fy+hm[5])/d - 0.5
			if sx < -1 || sy < -1 || sx > float64(sw) || sy > float64(sh) {
				continue
			}
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			ax, ay := sx-float64(x0), sy-float64(y0)
			var r, g, b, a float64
			for _, q := range [4]struct {
				dx, dy int
				wt     float64
			}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
				pr, pg, pb, pa := at(x0+q.dx, y0+q.dy)
				r += pr * q.wt
				g += pg * q.wt
				b += pb * q.wt
				a += pa * q.wt
			}
			if a <= 0.002 {
				continue
			}
			p := out.Pix[y*out.Stride+x*4:]
			p[0], p[1], p[2] = clamp8(r/a), clamp8(g/a), clamp8(b/a)
			p[3] = clamp8(a * 255)
		}
	}
	return out
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v+0.5))) }

// homography returns the 3×3 projective map (row-major) taking the four
// points from onto to.
func homography(from, to [4][2]float64) [9]float64 {
	var a [8][9]float64
	for i := 0; i < 4; i++ {
		x, y := from[i][0], from[i][1]
		u, v := to[i][0], to[i][1]
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	// Gauss-Jordan with partial pivoting.
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := 0; r < 8; r++ {
			if r == c || a[c][c] == 0 {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < 9; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	var h [9]float64
	for i := 0; i < 8; i++ {
		h[i] = a[i][8] / a[i][i]
	}
	h[8] = 1
	return h
}

// alphaMask returns img's alpha as a binary mask (alpha ≥ 128).
func alphaMask(img *image.NRGBA) []bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	m := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m[y*w+x] = img.Pix[y*img.Stride+x*4+3] >= 128
		}
	}
	return m
}

// morph dilates (grow) or erodes (!grow) a binary w×h mask by a square of
// radius r (separable running maximum/minimum).
func morph(m []bool, w, h, r int, grow bool) []bool {
	if r <= 0 {
		return append([]bool(nil), m...)
	}
	tmp := make([]bool, len(m))
	out := make([]bool, len(m))
	pass := func(src, dst []bool, n, stride, lines, lstride int) {
		for l := 0; l < lines; l++ {
			base := l * lstride
			// count of set pixels in the window
			cnt := 0
			for i := 0; i <= min(r, n-1); i++ {
				if src[base+i*stride] {
					cnt++
				}
			}
			for i := 0; i < n; i++ {
				win := min(i+r, n-1) - max(i-r, 0) + 1
				if grow {
					dst[base+i*stride] = cnt > 0
				} else {
					// outside the image counts as background
					dst[base+i*stride] = cnt == win && i-r >= 0 && i+r < n
				}
				if j := i + r + 1; j < n && src[base+j*stride] {
					cnt++
				}
				if j := i - r; j >= 0 && src[base+j*stride] {
					cnt--
				}
			}
		}
	}
	pass(m, tmp, w, 1, h, w)
	pass(tmp, out, h, w, w, 1)
	return out
}

// paintMask returns a w×h image with colour c where m is set (padding pad
// pixels around src's size is the caller's business).
func paintMask(m []bool, w, h int, c color.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, v := range m {
		if v {
			p := out.Pix[i*4:]
			p[0], p[1], p[2], p[3] = c.R, c.G, c.B, 255
		}
	}
	return out
}

// pad returns img on a transparent canvas p pixels larger on each side.
func pad(img *image.NRGBA, p int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx()+2*p, img.Rect.Dy()+2*p))
	xdraw.Draw(out, img.Rect.Sub(img.Rect.Min).Add(image.Pt(p, p)), img, img.Rect.Min, xdraw.Src)
	return out
}

// distress knocks holes into img's alpha: blotches of thresholded value
// noise at a few scales plus specks, removing about share of the pixels.
func distress(img *image.NRGBA, share float64, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	n := newValueNoise(rng, 4, 6)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := n.at(float64(x)/float64(w), float64(y)/float64(h))
			// value noise concentrates near 0.5: map share to a cut
			if v > 0.5+0.5*(1-2.2*share) || rng.Float64() < share/6 {
				img.Pix[y*img.Stride+x*4+3] = 0
			}
		}
	}
}

// recolour paints every visible pixel of img in c, keeping alpha.
func recolour(img *image.NRGBA, c color.NRGBA) {
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = c.R, c.G, c.B
	}
}

type valueNoise struct {
	octaves [][]float64
	sizes   []int
}

// newValueNoise returns fractal value noise with the given octaves, the
// first a lattice of base cells.
func newValueNoise(rng *rand.Rand, octaves, base int) *valueNoise {
	v := &valueNoise{}
	for o := 0; o < octaves; o++ {
		n := base << o
		g := make([]float64, (n+1)*(n+1))
		for i := range g {
			g[i] = rng.Float64()
		}
		v.octaves = append(v.octaves, g)
		v.sizes = append(v.sizes, n)
	}
	return v
}

func (v *valueNoise) at(x, y float64) float64 {
	var s, wsum float64
	amp := 1.0
	for o, g := range v.octaves {
		n := v.sizes[o]
		fx, fy := x*float64(n), y*float64(n)
		ix, iy := min(max(int(fx), 0), n-1), min(max(int(fy), 0), n-1)
		ax, ay := fx-float64(ix), fy-float64(iy)
		ax, ay = ax*ax*(3-2*ax), ay*ay*(3-2*ay)
		c := func(i, j int) float64 { return g[j*(n+1)+i] }
		val := c(ix, iy)*(1-ax)*(1-ay) + c(ix+1, iy)*ax*(1-ay) + c(ix, iy+1)*(1-ax)*ay + c(ix+1, iy+1)*ax*ay
		s += amp * val
		wsum += amp
		amp /= 2
	}
	return s / wsum
}

// Backgrounds.
const (
	BgTransparent = "transparent"
	BgSolid       = "solid"
	BgGradient    = "gradient"
	BgPhoto       = "photo"
	// Pattern grounds (match-10): geometric repeats a merchant prints
	// behind art. Each cell is a plain shape, and some logos are plain
	// shapes in a row (Delicious's four squares, Runkeeper's and Common
	// Workflow Language's bands): issue 15's benign designs were held for
	// logos found in checker, stripe and chevron grounds.
	BgChecker = "checker"
	BgStripes = "stripes"
	BgChevron = "chevron"
	BgDots    = "dots"
)

// PatternGrounds are the pattern backgrounds, each equally likely.
var PatternGrounds = []string{BgChecker, BgStripes, BgChevron, BgDots}

// paintPattern fills img with a two-colour pattern ground of kind (one of
// PatternGrounds), its period drawn from rng.
func paintPattern(img *image.NRGBA, kind string, a, b color.NRGBA, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	short := float64(min(w, h))
	fill := func(f func(x, y int) bool) {
		for y := 0; y < h; y++ {
			row := img.Pix[y*img.Stride:]
			for x := 0; x < w; x++ {
				c := b
				if f(x, y) {
					c = a
				}
				p := row[x*4:]
				p[0], p[1], p[2], p[3] = c.R, c.G, c.B, 255
			}
		}
	}
	switch kind {
	case BgChecker:
		cell := max(4, int(short/(4+rng.Float64()*20)))
		fill(func(x, y int) bool { return (x/cell+y/cell)%2 == 0 })
	case BgStripes:
		period := short / (6 + rng.Float64()*30)
		ang := rng.Float64() * math.Pi
		dx, dy := math.Cos(ang), math.Sin(ang)
		fill(func(x, y int) bool {
			return math.Mod(math.Abs(float64(x)*dx+float64(y)*dy), period) < period/2
		})
	case BgChevron:
		period := short / (5 + rng.Float64()*15)
		fill(func(x, y int) bool {
			v := float64(y) + math.Abs(math.Mod(float64(x), period)-period/2)
			return math.Mod(v, period) < period/2
		})
	case BgDots:
		cell := short / (8 + rng.Float64()*25)
		r2 := cell * cell / 16
		fill(func(x, y int) bool {
			row := math.Floor(float64(y) / cell)
			off := 0.0
			if int(row)%2 == 1 {
				off = cell / 2
			}
			cx := math.Floor((float64(x)+off)/cell)*cell + cell/2 - off
			cy := row*cell + cell/2
			ddx, ddy := float64(x)-cx, float64(y)-cy
			return ddx*ddx+ddy*ddy > r2
		})
	}
}

// paintBackground fills img; photo is a photographic-like texture: a few
// palette colours mixed by fractal noise, soft blobs (bokeh), a lighting
// gradient and grain, made at a quarter of the size and scaled up.
func paintBackground(img *image.NRGBA, kind string, a, b color.NRGBA, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	switch kind {
	case BgTransparent:
		return
	case BgSolid:
		xdraw.Draw(img, img.Rect, image.NewUniform(a), image.Point{}, xdraw.Src)
	case BgGradient:
		ang := rng.Float64() * 2 * math.Pi
		dx, dy := math.Cos(ang), math.Sin(ang)
		span := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
		off := math.Min(0, dx*float64(w)) + math.Min(0, dy*float64(h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				t := (dx*float64(x) + dy*float64(y) - off) / span
				p := img.Pix[y*img.Stride+x*4:]
				p[0], p[1], p[2], p[3] = mix8(a.R, b.R, t), mix8(a.G, b.G, t), mix8(a.B, b.B, t), 255
			}
		}
	case BgPhoto:
		sw, sh := max(8, w/4), max(8, h/4)
		small := image.NewNRGBA(image.Rect(0, 0, sw, sh))
		c3 := randColour(rng)
		n1 := newValueNoise(rng, 5, 2+rng.IntN(4))
		n2 := newValueNoise(rng, 4, 3+rng.IntN(6))
		type blob struct {
			x, y, r float64
			c       color.NRGBA
			s       float64
		}
		var blobs []blob
		for range rng.IntN(12) {
			blobs = append(blobs, blob{rng.Float64(), rng.Float64(), 0.03 + 0.12*rng.Float64(), randColour(rng), 0.3 + 0.5*rng.Float64()})
		}
		lx, ly := rng.Float64()*2-1, rng.Float64()*2-1
		for y := 0; y < sh; y++ {
			for x := 0; x < sw; x++ {
				u, v := float64(x)/float64(sw), float64(y)/float64(sh)
				t := n1.at(u, v)
				t = math.Max(0, math.Min(1, (t-0.5)*2.2+0.5))
				s := n2.at(u, v)
				r, g, bb := lerp(float64(a.R), float64(b.R), t), lerp(float64(a.G), float64(b.G), t), lerp(float64(a.B), float64(b.B), t)
				r, g, bb = lerp(r, float64(c3.R), s*s*0.6), lerp(g, float64(c3.G), s*s*0.6), lerp(bb, float64(c3.B), s*s*0.6)
				for _, bl := range blobs {
					d := math.Hypot(u-bl.x, v-bl.y) / bl.r
					if d < 1.5 {
						k := bl.s * math.Exp(-d*d*2)
						r, g, bb = lerp(r, float64(bl.c.R), k), lerp(g, float64(bl.c.G), k), lerp(bb, float64(bl.c.B), k)
					}
				}
				light := 0.75 + 0.25*(lx*(u-0.5)+ly*(v-0.5)+0.5)
				p := small.Pix[y*small.Stride+x*4:]
				p[0], p[1], p[2], p[3] = clamp8(r*light), clamp8(g*light), clamp8(bb*light), 255
			}
		}
		xdraw.BiLinear.Scale(img, img.Rect, small, small.Rect, xdraw.Src, nil)
		grain := 6 + rng.IntN(14)
		for i := 0; i < len(img.Pix); i += 4 {
			gn := rng.IntN(2*grain+1) - grain
			for c := 0; c < 3; c++ {
				img.Pix[i+c] = uint8(max(0, min(255, int(img.Pix[i+c])+gn)))
			}
		}
	}
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

func mix8(a, b uint8, t float64) uint8 {
	t = math.Max(0, math.Min(1, t))
	return uint8(float64(a)*(1-t) + float64(b)*t + 0.5)
}

func randColour(rng *rand.Rand) color.NRGBA {
	return color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

func lum(c color.NRGBA) float64 {
	return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
}

func colourDist(a, b color.NRGBA) float64 {
	dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
	return math.Sqrt(dr*dr + dg*dg + db*db)
}

// meanColour is the mean opaque colour of img inside r (white where
// transparent).
func meanColour(img *image.NRGBA, r image.Rectangle) color.NRGBA {
	r = r.Intersect(img.Rect)
	var sr, sg, sb, n float64
	step := max(1, r.Dx()/32)
	for y := r.Min.Y; y < r.Max.Y; y += step {
		for x := r.Min.X; x < r.Max.X; x += step {
			p := img.Pix[y*img.Stride+x*4:]
			a := float64(p[3]) / 255
			sr += float64(p[0])*a + 255*(1-a)
			sg += float64(p[1])*a + 255*(1-a)
			sb += float64(p[2])*a + 255*(1-a)
			n++
		}
	}
	if n == 0 {
		return color.NRGBA{255, 255, 255, 255}
	}
	return color.NRGBA{uint8(sr / n), uint8(sg / n), uint8(sb / n), 255}
}

// contrasting returns a random colour that stands out from bg (a merchant
// does not print an invisible logo).
func contrasting(rng *rand.Rand, bg color.NRGBA) color.NRGBA {
	for range 200 {
		c := randColour(rng)
		if colourDist(c, bg) >= 110 && math.Abs(lum(c)-lum(bg)) >= 45 {
			return c
		}
	}
	if lum(bg) > 128 {
		return color.NRGBA{0, 0, 0, 255}
	}
	return color.NRGBA{255, 255, 255, 255}
}

// alphaBounds is the box of img's pixels with alpha ≥ 128.
func alphaBounds(img *image.NRGBA) image.Rectangle {
	r := image.Rectangle{}
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < img.Rect.Dx(); x++ {
			if row[x*4+3] >= 128 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// shrinkImage scales img (at the origin) by k < 1.
func shrinkImage(img *image.NRGBA, k float64) *image.NRGBA {
	w, h := max(1, int(float64(img.Rect.Dx())*k)), max(1, int(float64(img.Rect.Dy())*k))
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(out, out.Rect, img, img.Rect, xdraw.Src, nil)
	return out
}
