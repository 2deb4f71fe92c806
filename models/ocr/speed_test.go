package ocr

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bestPathScan is bestPath as it was: a scan of every class of the row,
// skipping those the alphabet does not allow (the reference).
func bestPathScan(d *dictionary, probs []float32, steps, classes int) []bestStep {
	path := make([]bestStep, steps)
	for t := range path {
		row := probs[t*classes : (t+1)*classes]
		best, bp := 0, float32(-1)
		for c, p := range row {
			if p > bp && (d.allowed == nil || (c < len(d.allowed) && d.allowed[c])) {
				best, bp = c, p
			}
		}
		path[t] = bestStep{best, bp}
	}
	return path
}

// TestBestPathSameAsScan: visiting only the alphabet's classes picks the
// class a scan of the whole row picks, ties included (the first of equal
// maxima), with the Latin alphabet and the whole dictionary, with rows
// whose largest values are forbidden characters, and with a model that has
// fewer classes than the dictionary.
func TestBestPathSameAsScan(t *testing.T) {
	t.Parallel()
	chars := []string{""}
	for _, r := range "abcXYZ01:" {
		chars = append(chars, string(r))
	}
	chars = append(chars, "中", "文", "ア", "é", "ß", "€", "한", " ")
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		alphabet string
		classes  int
	}{{AlphabetLatin, len(chars)}, {AlphabetAll, len(chars)}, {AlphabetLatin, len(chars) - 3}} {
		d := &dictionary{chars: append([]string(nil), chars...)}
		if err := d.restrict(c.alphabet); err != nil {
			t.Fatal(err)
		}
		const steps = 400
		probs := make([]float32, steps*c.classes)
		for i := range probs {
			// Few distinct values: many ties.
			probs[i] = float32(rng.IntN(5)) / 4
		}
		for s := 0; s < steps; s += 7 {
			// The row's maximum on a character the alphabet forbids.
			probs[s*c.classes+10] = 2
		}
		got, want := d.bestPath(probs, steps, c.classes), bestPathScan(d, probs, steps, c.classes)
		if !slices.Equal(got, want) {
			t.Errorf("%s, %d classes: best path differs from a scan of every class", c.alphabet, c.classes)
		}
	}
}

// bilinearRef is raster.bilinear as it was: every tap through at (the
// reference for the opaque fast path).
func bilinearRef(r *raster, x, y float64) (float32, float32, float32) {
	x -= 0.5
	y -= 0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-x0), float32(y-y0)
	ix, iy := int(x0), int(y0)
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

// rectifyRef is rectify as it was: one sample at a time added into the
// strip, every offset computed where it is used, bilinearRef.
func rectifyRef(src *raster, line []pt, half float64, h int) strip {
	r := newRectifier(src, line, half, h)
	k, s, w := r.k, r.s, r.out.w
	inv := 1 / float32(k*k)
	for x := 0; x < w; x++ {
		for sub := 0; sub < k; sub++ {
			l := (float64(x) + (float64(sub)+0.5)/float64(k)) / r.sx
			p, t := along(r.line, r.cum, r.tans, l)
			nrm := pt{t.Y, -t.X}
			for y := 0; y < h; y++ {
				o := 3 * (y*w + x)
				for subY := 0; subY < k; subY++ {
					off := r.half - (float64(y)+(float64(subY)+0.5)/float64(k))/s
					q := p.add(nrm.mul(off))
					cr, cg, cb := bilinearRef(src, q.X, q.Y)
					r.out.rgb[o] += cr * inv
					r.out.rgb[o+1] += cg * inv
					r.out.rgb[o+2] += cb * inv
				}
			}
		}
	}
	return r.out
}

// TestBilinearSameAsRef: the opaque fast path samples the bits the
// clamped path does, inside, on and past every edge, opaque and
// transparent.
func TestBilinearSameAsRef(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, alpha := range []bool{false, true} {
		r := randomRaster(rng, 37, 23, alpha)
		for i := 0; i < 20000; i++ {
			x, y := rng.Float64()*45-4, rng.Float64()*31-4
			if i%10 == 0 {
				x = float64(rng.IntN(40)) - 1.5 // on pixel centres and edges
			}
			r0, g0, b0 := r.bilinear(x, y)
			r1, g1, b1 := bilinearRef(r, x, y)
			if r0 != r1 || g0 != g1 || b0 != b1 {
				t.Fatalf("alpha %v at (%v, %v): %v %v %v, want %v %v %v", alpha, x, y, r0, g0, b0, r1, g1, b1)
			}
		}
	}
}

// TestRectifySameAsRef: strips are the same bits as the sampler's first
// version made them (straight, rotated, curved, enlarged, averaged 5×5
// and 8×8, past the image's edges, opaque and transparent).
func TestRectifySameAsRef(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	var arc []pt
	for a := 0.0; a <= math.Pi/2; a += math.Pi / 20 {
		arc = append(arc, pt{300 + 200*math.Cos(math.Pi+a), 380 - 200*math.Sin(a)})
	}
	regs := []region{
		{line: []pt{{20, 30}, {380, 30}}, half: 12},
		{line: []pt{{10, 100}, {390, 300}}, half: 90},   // averaged 4×4
		{line: []pt{{-20, 200}, {420, 200}}, half: 210}, // 8×8, past the edges
		{line: []pt{{100, 50}, {110, 53}}, half: 3},
		{line: arc, half: 25, curved: true},
	}
	for _, alpha := range []bool{false, true} {
		src := randomRaster(rng, 400, 400, alpha)
		for i, reg := range regs {
			got, want := rectify(src, reg.line, reg.half, recHeight), rectifyRef(src, reg.line, reg.half, recHeight)
			if got.w != want.w || !slices.Equal(got.rgb, want.rgb) {
				t.Errorf("alpha %v region %d: strip differs from the reference sampler's", alpha, i)
			}
		}
	}
}

// TestRasterKnownAlphaSame: a raster made knowing the image's
// transparency (ReadImage: the decoder's HasAlpha) composites as one that
// checks it: opaque, transparent on the sampling grid, one translucent
// pixel off the grid, light ink on transparency (composited on black).
func TestRasterKnownAlphaSame(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	offGrid := func() *image.NRGBA {
		img := randomRaster(rng, 900, 700, false)
		pix := append([]uint8(nil), img.pix...)
		pix[4*(3*900+1)+3] = 200 // row 3, column 1: between grid points
		return &image.NRGBA{Pix: pix, Stride: 4 * 900, Rect: image.Rect(0, 0, 900, 700)}
	}
	light := func() *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 250, 250, 250, uint8(rng.IntN(2)*255)
		}
		return img
	}
	asImage := func(r *raster) *image.NRGBA {
		return &image.NRGBA{Pix: r.pix, Stride: r.stride, Rect: image.Rect(0, 0, r.w, r.h)}
	}
	for name, img := range map[string]*image.NRGBA{
		"opaque":      asImage(randomRaster(rng, 400, 300, false)),
		"transparent": asImage(randomRaster(rng, 400, 300, true)),
		"off grid":    offGrid(),
		"light ink":   light(),
	} {
		want := newRaster(img)
		known := alphaNone
		if want.alpha {
			known = alphaSome
		}
		got := newRasterKnown(img, known)
		if got.alpha != want.alpha || got.bg != want.bg || got.w != want.w || got.h != want.h {
			t.Errorf("%s: alpha %v bg %v, want alpha %v bg %v", name, got.alpha, got.bg, want.alpha, want.bg)
		}
		if name != "opaque" && !want.alpha {
			t.Errorf("%s: the check found no transparency", name)
		}
		if name == "light ink" && want.bg != [3]float32{} {
			t.Errorf("light ink composited on %v, want black", want.bg)
		}
	}
}

// hbytesRef and hfloatsRef are the horizontal resamplers as they were
// (the reference).
func hbytesRef(pix []uint8, xt flatTaps, hrow []float32) {
	for ox := 0; ox+1 < len(xt.start); ox++ {
		var a, b, c float32
		for k := xt.start[ox]; k < xt.start[ox+1]; k++ {
			p := pix[4*xt.idx[k]:]
			p = p[:3]
			w := xt.w[k]
			a += float32(p[0]) * w
			b += float32(p[1]) * w
			c += float32(p[2]) * w
		}
		hrow[3*ox], hrow[3*ox+1], hrow[3*ox+2] = a, b, c
	}
}

func hfloatsRef(row []float32, xt flatTaps, hrow []float32) {
	for ox := 0; ox+1 < len(xt.start); ox++ {
		var a, b, c float32
		for k := xt.start[ox]; k < xt.start[ox+1]; k++ {
			p := row[3*xt.idx[k]:]
			p = p[:3]
			w := xt.w[k]
			a += p[0] * w
			b += p[1] * w
			c += p[2] * w
		}
		hrow[3*ox], hrow[3*ox+1], hrow[3*ox+2] = a, b, c
	}
}

// TestHorizontalSameAsRef: the horizontal resamplers give the reference's
// bits, shrinking (a print file's 4,500 columns to 1,920, odd ratios) and
// enlarging.
func TestHorizontalSameAsRef(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range [][2]int{{4500, 1920}, {1920, 960}, {1333, 960}, {97, 64}, {600, 960}, {5, 7}, {1, 3}} {
		sw, tw := c[0], c[1]
		xt := flattenTaps(axisWeights(sw, tw))
		pix := make([]uint8, 4*sw)
		fl := make([]float32, 3*sw)
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		for i := range fl {
			fl[i] = rng.Float32() * 255
		}
		got, want := make([]float32, 3*tw), make([]float32, 3*tw)
		hbytes(pix, xt, got)
		hbytesRef(pix, xt, want)
		if !slices.Equal(got, want) {
			t.Errorf("%d→%d: hbytes differs from the reference", sw, tw)
		}
		hfloats(fl, xt, got)
		hfloatsRef(fl, xt, want)
		if !slices.Equal(got, want) {
			t.Errorf("%d→%d: hfloats differs from the reference", sw, tw)
		}
	}
}

// TestFloatBufsReuse: a buffer given back is handed out again, zeroed
// when asked; a larger request than the pool holds gets a new buffer; a
// nil pool allocates. Resampling into a reused, dirty buffer gives the
// same bits as into a fresh one.
func TestFloatBufsReuse(t *testing.T) {
	t.Parallel()
	var b floatBufs
	s := b.get(100, true)
	for i := range s {
		s[i] = 7
	}
	b.put(s)
	z := b.get(50, true)
	if len(z) != 50 || slices.ContainsFunc(z, func(v float32) bool { return v != 0 }) {
		t.Errorf("get(50, zero) = %d values, not all zero", len(z))
	}
	b.put(z)
	if big := b.get(200, false); len(big) != 200 {
		t.Errorf("get(200) = %d values", len(big))
	}
	if n := (*floatBufs)(nil).get(10, false); len(n) != 10 {
		t.Errorf("nil pool get(10) = %d values", len(n))
	}
	rng := rand.New(rand.NewPCG(15, 16))
	r := randomRaster(rng, 450, 540, false)
	full := image.Rect(0, 0, 450, 540)
	want := r.resize(full, 192, 224, 2, nil)
	var pool floatBufs
	dirty := pool.get(192*224*3, false)
	for i := range dirty {
		dirty[i] = 1e9
	}
	pool.put(dirty)
	if got := r.resize(full, 192, 224, 2, &pool); !slices.Equal(got, want) {
		t.Error("resize into a reused buffer differs from a fresh one")
	}
}
