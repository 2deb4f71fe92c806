package benigngen

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// paintBackground fills img with the named ground.
func paintBackground(img *image.NRGBA, kind string, pal []color.NRGBA, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	a, b := pal[rng.IntN(len(pal))], pal[rng.IntN(len(pal))]
	if math.Abs(lum(a)-lum(b)) < 30 {
		b = pal[(rng.IntN(len(pal))+1)%len(pal)]
	}
	short := float64(min(w, h))
	switch kind {
	case "transparent":
		clear(img.Pix)
	case "solid":
		fillFunc(img, func(x, y int) color.NRGBA { return a })
	case "gradient":
		ang := rng.Float64() * math.Pi
		dx, dy := math.Cos(ang), math.Sin(ang)
		span := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
		off := math.Min(0, dx*float64(w)) + math.Min(0, dy*float64(h))
		fillFunc(img, func(x, y int) color.NRGBA {
			return mix(a, b, (float64(x)*dx+float64(y)*dy-off)/span)
		})
	case "radial":
		cx, cy := float64(w)*(0.3+rng.Float64()*0.4), float64(h)*(0.3+rng.Float64()*0.4)
		rmax := math.Hypot(float64(w), float64(h)) * 0.6
		fillFunc(img, func(x, y int) color.NRGBA {
			return mix(a, b, math.Min(1, math.Hypot(float64(x)-cx, float64(y)-cy)/rmax))
		})
	case "clouds":
		n := newField(w, h, newNoise(rng, short/3, 5).at)
		fillFunc(img, func(x, y int) color.NRGBA { return mix(a, b, n.at(x, y)) })
	case "grain":
		amp := 20 + rng.Float64()*60
		fillFunc(img, func(x, y int) color.NRGBA { return jitter(a, (rng.Float64()-0.5)*amp) })
	case "paper":
		base := hsl(30+rng.Float64()*30, 0.1+rng.Float64()*0.3, 0.8+rng.Float64()*0.15)
		n := newField(w, h, newNoise(rng, short/8, 4).at)
		fn := newNoise(rng, short/60, 2)
		fibres := newField(w, h, func(x, y float64) float64 { return fn.at(x*4, y*0.5) })
		fillFunc(img, func(x, y int) color.NRGBA {
			v := (n.at(x, y)-0.5)*30 + (fibres.at(x, y)-0.5)*14 + (rng.Float64()-0.5)*10
			return jitter(base, v)
		})
	case "photo":
		// A photographic-looking texture: coloured multi-octave noise
		// (stone, wood, water, foliage) with soft out-of-focus discs.
		nn := newNoise(rng, short/(2+rng.Float64()*6), 6)
		streak := rng.Float64() * 6
		n := newField(w, h, func(x, y float64) float64 { return nn.at(x+streak*y*0.2, y) })
		m := newField(w, h, newNoise(rng, short/(1+rng.Float64()*3), 3).at)
		c3 := pal[rng.IntN(len(pal))]
		fillFunc(img, func(x, y int) color.NRGBA {
			v := n.at(x, y)
			c := mix(mix(a, b, v), c3, m.at(x, y)*0.6)
			return jitter(c, (rng.Float64()-0.5)*12)
		})
		for k := rng.IntN(25); k > 0; k-- {
			r := short * (0.02 + rng.Float64()*0.08)
			disc(img, rng.Float64()*float64(w), rng.Float64()*float64(h), r, pal[rng.IntN(len(pal))], 0.15+rng.Float64()*0.3)
		}
	case "halftone":
		fillFunc(img, func(x, y int) color.NRGBA { return a })
		cell := short / (30 + rng.Float64()*80)
		for cy := cell / 2; cy < float64(h); cy += cell {
			for cx := cell / 2; cx < float64(w); cx += cell {
				t := (cx/float64(w) + cy/float64(h)) / 2
				disc(img, cx, cy, cell*0.5*t+0.5, b, 1)
			}
		}
	case "stripes":
		period := short / (6 + rng.Float64()*30)
		ang := rng.Float64() * math.Pi
		dx, dy := math.Cos(ang), math.Sin(ang)
		fillFunc(img, func(x, y int) color.NRGBA {
			if math.Mod(math.Abs(float64(x)*dx+float64(y)*dy), period) < period/2 {
				return a
			}
			return b
		})
	case "dots":
		fillFunc(img, func(x, y int) color.NRGBA { return a })
		cell := short / (8 + rng.Float64()*25)
		for cy, row := cell/2, 0; cy < float64(h)+cell; cy, row = cy+cell, row+1 {
			off := 0.0
			if row%2 == 1 {
				off = cell / 2
			}
			for cx := cell/2 - off; cx < float64(w)+cell; cx += cell {
				disc(img, cx, cy, cell*0.25, b, 1)
			}
		}
	case "checker":
		cell := int(short / (4 + rng.Float64()*20))
		fillFunc(img, func(x, y int) color.NRGBA {
			if (x/cell+y/cell)%2 == 0 {
				return a
			}
			return b
		})
	case "chevron":
		period := short / (5 + rng.Float64()*15)
		fillFunc(img, func(x, y int) color.NRGBA {
			v := float64(y) + math.Abs(math.Mod(float64(x), period)-period/2)
			if math.Mod(v, period) < period/2 {
				return a
			}
			return b
		})
	case "plaid":
		period := short / (3 + rng.Float64()*8)
		c := pal[rng.IntN(len(pal))]
		fillFunc(img, func(x, y int) color.NRGBA {
			bx := math.Mod(float64(x), period) < period*0.3
			by := math.Mod(float64(y), period) < period*0.3
			switch {
			case bx && by:
				return mix(b, c, 0.5)
			case bx || by:
				return mix(a, b, 0.6)
			}
			if math.Mod(float64(x+y), period/6) < 2 {
				return mix(a, c, 0.4)
			}
			return a
		})
	}
}

func fillFunc(img *image.NRGBA, f func(x, y int) color.NRGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		o := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		for x := 0; x < w; x, o = x+1, o+4 {
			c := f(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, c.A
		}
	}
}

func mix(a, b color.NRGBA, t float64) color.NRGBA {
	t = math.Max(0, math.Min(1, t))
	l := func(p, q uint8) uint8 { return uint8(float64(p) + (float64(q)-float64(p))*t + 0.5) }
	return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), l(a.A, b.A)}
}

func jitter(c color.NRGBA, d float64) color.NRGBA {
	cl := func(v uint8) uint8 { return uint8(math.Max(0, math.Min(255, float64(v)+d))) }
	return color.NRGBA{cl(c.R), cl(c.G), cl(c.B), c.A}
}

// disc draws an antialiased filled disc with an opacity.
func disc(img *image.NRGBA, cx, cy, r float64, c color.NRGBA, opacity float64) {
	x0, x1 := max(img.Rect.Min.X, int(cx-r-1)), min(img.Rect.Max.X, int(cx+r+2))
	y0, y1 := max(img.Rect.Min.Y, int(cy-r-1)), min(img.Rect.Max.Y, int(cy+r+2))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			cov := math.Max(0, math.Min(1, r-d+0.5)) * opacity
			if cov <= 0 {
				continue
			}
			o := img.PixOffset(x, y)
			da := float64(img.Pix[o+3]) / 255
			oa := cov + da*(1-cov)
			for k, v := range [3]uint8{c.R, c.G, c.B} {
				img.Pix[o+k] = uint8((float64(v)*cov+float64(img.Pix[o+k])*da*(1-cov))/oa + 0.5)
			}
			img.Pix[o+3] = uint8(oa*255 + 0.5)
		}
	}
}

// noise is multi-octave value noise in 0..1.
type noise struct {
	grids [][]float64
	sizes []int
	cells []float64
}

func newNoise(rng *rand.Rand, cell float64, octaves int) *noise {
	n := &noise{}
	for o := 0; o < octaves; o++ {
		sz := 64
		g := make([]float64, sz*sz)
		for i := range g {
			g[i] = rng.Float64()
		}
		n.grids, n.sizes, n.cells = append(n.grids, g), append(n.sizes, sz), append(n.cells, math.Max(1, cell/math.Pow(2, float64(o))))
	}
	return n
}

// at is the noise at (x, y); a *noise is also a field source.
func (n *noise) at(x, y float64) float64 {
	v, amp, tot := 0.0, 1.0, 0.0
	for o, g := range n.grids {
		sz := n.sizes[o]
		fx, fy := x/n.cells[o], y/n.cells[o]
		ix, iy := int(math.Floor(fx)), int(math.Floor(fy))
		tx, ty := fx-float64(ix), fy-float64(iy)
		tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
		at := func(i, j int) float64 { return g[((j%sz+sz)%sz)*sz+(i%sz+sz)%sz] }
		a := at(ix, iy) + (at(ix+1, iy)-at(ix, iy))*tx
		b := at(ix, iy+1) + (at(ix+1, iy+1)-at(ix, iy+1))*tx
		v += (a + (b-a)*ty) * amp
		tot += amp
		amp *= 0.5
	}
	return v / tot
}

// shadow adds a soft offset copy of the art below it.
func shadow(art *image.NRGBA, off int, rng *rand.Rand) {
	sh := image.NewNRGBA(art.Rect)
	c := uint8(rng.IntN(60))
	for i := 3; i < len(art.Pix); i += 4 {
		if a := art.Pix[i]; a > 0 {
			sh.Pix[i-3], sh.Pix[i-2], sh.Pix[i-1], sh.Pix[i] = c, c, c, a/2
		}
	}
	moved := image.NewNRGBA(art.Rect)
	over(moved, sh, image.Pt(off, off), 1)
	over(moved, art, image.Point{}, 1)
	copy(art.Pix, moved.Pix)
}

// outline draws a stroke of width px around the art (a dilation of its
// alpha in colour c, below the art).
func outline(art *image.NRGBA, px int, c color.NRGBA) {
	w, h := art.Rect.Dx(), art.Rect.Dy()
	// Separable max filter on alpha (van Herk/Gil-Werman: O(1) per pixel).
	a := make([]uint8, w*h)
	for i := range a {
		a[i] = art.Pix[i*4+3]
	}
	tmp := make([]uint8, w*h)
	line, out := make([]uint8, max(w, h)), make([]uint8, max(w, h))
	for y := 0; y < h; y++ {
		copy(line[:w], a[y*w:(y+1)*w])
		maxFilter(line[:w], out[:w], px)
		copy(tmp[y*w:], out[:w])
	}
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			line[y] = tmp[y*w+x]
		}
		maxFilter(line[:h], out[:h], px)
		for y := 0; y < h; y++ {
			a[y*w+x] = out[y]
		}
	}
	st := image.NewNRGBA(art.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if m := a[y*w+x]; m > 0 {
				o := (y*w + x) * 4
				st.Pix[o], st.Pix[o+1], st.Pix[o+2], st.Pix[o+3] = c.R, c.G, c.B, m
			}
		}
	}
	over(st, art, image.Point{}, 1)
	copy(art.Pix, st.Pix)
}

// halftone turns the art into dots of its colours on a grid of cell px,
// each dot's area proportional to the coverage of its cell.
func halftone(art *image.NRGBA, cell int) *image.NRGBA {
	w, h := art.Rect.Dx(), art.Rect.Dy()
	out := image.NewNRGBA(art.Rect)
	for cy := 0; cy < h; cy += cell {
		for cx := 0; cx < w; cx += cell {
			var r, g, b, a float64
			n := 0.0
			for y := cy; y < min(h, cy+cell); y++ {
				for x := cx; x < min(w, cx+cell); x++ {
					o := art.PixOffset(x, y)
					al := float64(art.Pix[o+3]) / 255
					r += float64(art.Pix[o]) * al
					g += float64(art.Pix[o+1]) * al
					b += float64(art.Pix[o+2]) * al
					a += al
					n++
				}
			}
			if a < 0.02*n {
				continue
			}
			cov := a / n
			rad := float64(cell) * 0.5 * math.Sqrt(cov) * 1.25
			disc(out, float64(cx)+float64(cell)/2, float64(cy)+float64(cell)/2, rad, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), 255}, 1)
		}
	}
	return out
}

// distress knocks holes in the art the way worn screen prints look: a
// thresholded noise mask plus speckles and scratches.
func distress(art *image.NRGBA, rng *rand.Rand) {
	w, h := art.Rect.Dx(), art.Rect.Dy()
	short := float64(min(w, h))
	n := newField(w, h, newNoise(rng, short/(20+rng.Float64()*60), 3).at)
	thr := 0.55 + rng.Float64()*0.15
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := art.PixOffset(x, y)
			if art.Pix[o+3] == 0 {
				continue
			}
			v := n.at(x, y)
			if v > thr || rng.Float64() < 0.04 {
				art.Pix[o+3] = 0
			} else if v > thr-0.05 {
				art.Pix[o+3] /= 2
			}
		}
	}
	for k := rng.IntN(30); k > 0; k-- {
		x0, y0 := rng.Float64()*float64(w), rng.Float64()*float64(h)
		ang := rng.Float64() * math.Pi
		l := short * (0.05 + rng.Float64()*0.3)
		for t := 0.0; t < l; t++ {
			x, y := int(x0+math.Cos(ang)*t), int(y0+math.Sin(ang)*t)
			if (image.Point{x, y}).In(art.Rect) {
				art.Pix[art.PixOffset(x, y)+3] = 0
			}
		}
	}
}

// field is a smooth function sampled on a coarse grid (every fieldStep
// pixels) and interpolated bilinearly: smooth grounds on a 4500×5400 print
// file cost a few hundred thousand noise evaluations instead of 24 million.
type field struct {
	w, h int // grid size
	v    []float32
}

const fieldStep = 4

func newField(w, h int, f func(x, y float64) float64) *field {
	gw, gh := w/fieldStep+2, h/fieldStep+2
	fl := &field{w: gw, h: gh, v: make([]float32, gw*gh)}
	for j := 0; j < gh; j++ {
		for i := 0; i < gw; i++ {
			fl.v[j*gw+i] = float32(f(float64(i*fieldStep), float64(j*fieldStep)))
		}
	}
	return fl
}

func (f *field) at(x, y int) float64 {
	i, j := x/fieldStep, y/fieldStep
	tx, ty := float32(x%fieldStep)/fieldStep, float32(y%fieldStep)/fieldStep
	o := j*f.w + i
	a := f.v[o] + (f.v[o+1]-f.v[o])*tx
	b := f.v[o+f.w] + (f.v[o+f.w+1]-f.v[o+f.w])*tx
	return float64(a + (b-a)*ty)
}

// maxFilter sets out[i] to the maximum of in[i-r..i+r] (van Herk/Gil-Werman).
func maxFilter(in, out []uint8, r int) {
	n, k := len(in), 2*r+1
	pad := func(i int) uint8 {
		if i < 0 || i >= n {
			return 0
		}
		return in[i]
	}
	// Work on the padded signal p[j] = in[j-r], j in 0..n+2r.
	m := n + 2*r
	g, hh := make([]uint8, m), make([]uint8, m)
	for j := 0; j < m; j++ {
		v := pad(j - r)
		if j%k == 0 {
			g[j] = v
		} else {
			g[j] = max(g[j-1], v)
		}
	}
	for j := m - 1; j >= 0; j-- {
		v := pad(j - r)
		if j == m-1 || (j+1)%k == 0 {
			hh[j] = v
		} else {
			hh[j] = max(hh[j+1], v)
		}
	}
	for i := 0; i < n; i++ {
		// window p[i .. i+2r]
		out[i] = max(hh[i], g[i+2*r])
	}
}
