// Package testimages generates a deterministic, varied set of encoded test
// images (gradients, noise, shapes, skin-tone blobs, stripes, transparency,
// JPEG artefacts, many sizes and aspect ratios) for the model parity test
// and the classifier benchmark. No photographs are available offline, so
// variety comes from procedural content.
package testimages

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
)

// Case is one generated image.
type Case struct {
	Name      string
	MediaType string // "image/png" or "image/jpeg"
	Data      []byte
}

var sizes = [][2]int{
	{224, 224}, {300, 200}, {200, 300}, {640, 480}, {97, 131}, {512, 512},
	{1000, 700}, {450, 1100}, {225, 223}, {800, 800}, {1600, 400}, {333, 333},
}

var skinTones = []color.NRGBA{
	{255, 224, 189, 255}, {234, 192, 134, 255}, {198, 134, 66, 255},
	{141, 85, 36, 255}, {255, 205, 148, 255}, {224, 172, 105, 255}, {92, 56, 30, 255},
}

// Generate returns n images; the same n always gives the same bytes.
func Generate(n int) ([]Case, error) {
	kinds := []func(*rand.Rand, int, int) *image.NRGBA{
		gradient, noise, shapes, skinBlobs, stripes, checker, flat, radial, skinOnNoise, plasma,
	}
	kindNames := []string{"gradient", "noise", "shapes", "skinblobs", "stripes", "checker", "flat", "radial", "skin-on-noise", "plasma"}
	out := make([]Case, 0, n)
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i)+1, 0x6d7573746572))
		k := i % len(kinds)
		sz := sizes[(i/len(kinds)+i)%len(sizes)]
		img := kinds[k](r, sz[0], sz[1])
		c := Case{Name: fmt.Sprintf("%02d-%s-%dx%d", i, kindNames[k], sz[0], sz[1])}
		var buf bytes.Buffer
		switch {
		case i%7 == 3: // transparent PNG (flattened onto white by the pipeline)
			punchAlpha(r, img)
			c.Name += "-alpha"
			fallthrough
		case i%3 != 0:
			if err := png.Encode(&buf, img); err != nil {
				return nil, err
			}
			c.MediaType = "image/png"
		default:
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60 + r.IntN(35)}); err != nil {
				return nil, err
			}
			c.MediaType = "image/jpeg"
			c.Name += "-jpeg"
		}
		c.Data = buf.Bytes()
		out = append(out, c)
	}
	return out, nil
}

func randColor(r *rand.Rand) color.NRGBA {
	return color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
}

func fill(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, f(x, y))
		}
	}
	return img
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t + 0.5) }

func gradient(r *rand.Rand, w, h int) *image.NRGBA {
	a, b := randColor(r), randColor(r)
	ang := r.Float64() * 2 * math.Pi
	dx, dy := math.Cos(ang), math.Sin(ang)
	span := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
	return fill(w, h, func(x, y int) color.NRGBA {
		t := (float64(x)*dx + float64(y)*dy) / span
		t = t - math.Floor(t)
		return color.NRGBA{lerp(a.R, b.R, t), lerp(a.G, b.G, t), lerp(a.B, b.B, t), 255}
	})
}

func noise(r *rand.Rand, w, h int) *image.NRGBA {
	return fill(w, h, func(x, y int) color.NRGBA { return randColor(r) })
}

func shapes(r *rand.Rand, w, h int) *image.NRGBA {
	bg := randColor(r)
	img := fill(w, h, func(x, y int) color.NRGBA { return bg })
	for i := 0; i < 3+r.IntN(8); i++ {
		c := randColor(r)
		cx, cy := r.IntN(w), r.IntN(h)
		rad := 5 + r.IntN(max(6, min(w, h)/3))
		rect := r.IntN(2) == 0
		for y := max(0, cy-rad); y < min(h, cy+rad); y++ {
			for x := max(0, cx-rad); x < min(w, cx+rad); x++ {
				if rect || (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
					img.SetNRGBA(x, y, c)
				}
			}
		}
	}
	return img
}

func blob(img *image.NRGBA, r *rand.Rand, tone color.NRGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cx, cy := r.Float64()*float64(w), r.Float64()*float64(h)
	rx, ry := (0.1+r.Float64()*0.3)*float64(w), (0.1+r.Float64()*0.3)*float64(h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := math.Pow((float64(x)-cx)/rx, 2) + math.Pow((float64(y)-cy)/ry, 2)
			if d < 1 {
				shade := 0.75 + 0.25*(1-d)
				img.SetNRGBA(x, y, color.NRGBA{uint8(float64(tone.R) * shade), uint8(float64(tone.G) * shade), uint8(float64(tone.B) * shade), 255})
			}
		}
	}
}

func skinBlobs(r *rand.Rand, w, h int) *image.NRGBA {
	bg := randColor(r)
	img := fill(w, h, func(x, y int) color.NRGBA { return bg })
	for i := 0; i < 2+r.IntN(4); i++ {
		blob(img, r, skinTones[r.IntN(len(skinTones))])
	}
	return img
}

func skinOnNoise(r *rand.Rand, w, h int) *image.NRGBA {
	img := fill(w, h, func(x, y int) color.NRGBA {
		v := uint8(80 + r.IntN(60))
		return color.NRGBA{v, v, v, 255}
	})
	blob(img, r, skinTones[r.IntN(len(skinTones))])
	blob(img, r, skinTones[r.IntN(len(skinTones))])
	return img
}

func stripes(r *rand.Rand, w, h int) *image.NRGBA {
	a, b := randColor(r), randColor(r)
	period := 2 + r.IntN(40)
	vertical := r.IntN(2) == 0
	return fill(w, h, func(x, y int) color.NRGBA {
		v := y
		if vertical {
			v = x
		}
		if (v/period)%2 == 0 {
			return a
		}
		return b
	})
}

func checker(r *rand.Rand, w, h int) *image.NRGBA {
	a, b := randColor(r), randColor(r)
	cell := 1 + r.IntN(48)
	return fill(w, h, func(x, y int) color.NRGBA {
		if (x/cell+y/cell)%2 == 0 {
			return a
		}
		return b
	})
}

func flat(r *rand.Rand, w, h int) *image.NRGBA {
	c := randColor(r)
	return fill(w, h, func(x, y int) color.NRGBA { return c })
}

func radial(r *rand.Rand, w, h int) *image.NRGBA {
	a, b := randColor(r), randColor(r)
	cx, cy := r.Float64()*float64(w), r.Float64()*float64(h)
	maxd := math.Hypot(float64(w), float64(h))
	freq := 1 + r.Float64()*8
	return fill(w, h, func(x, y int) color.NRGBA {
		t := 0.5 + 0.5*math.Sin(freq*2*math.Pi*math.Hypot(float64(x)-cx, float64(y)-cy)/maxd)
		return color.NRGBA{lerp(a.R, b.R, t), lerp(a.G, b.G, t), lerp(a.B, b.B, t), 255}
	})
}

func plasma(r *rand.Rand, w, h int) *image.NRGBA {
	f := [3]float64{0.01 + r.Float64()*0.05, 0.01 + r.Float64()*0.05, 0.01 + r.Float64()*0.05}
	p := [3]float64{r.Float64() * 6, r.Float64() * 6, r.Float64() * 6}
	return fill(w, h, func(x, y int) color.NRGBA {
		var c [3]uint8
		for i := range c {
			v := math.Sin(float64(x)*f[i]+p[i]) + math.Sin(float64(y)*f[(i+1)%3]+p[i]) + math.Sin(float64(x+y)*f[(i+2)%3])
			c[i] = uint8((v + 3) / 6 * 255)
		}
		return color.NRGBA{c[0], c[1], c[2], 255}
	})
}

// punchAlpha gives the image a transparent border and a semi-transparent band.
func punchAlpha(r *rand.Rand, img *image.NRGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	border := 1 + r.IntN(max(2, min(w, h)/6))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			switch {
			case x < border || y < border || x >= w-border || y >= h-border:
				img.Pix[o+3] = 0
			case y%17 < 5:
				img.Pix[o+3] = uint8(40 + (x*7)%200)
			}
		}
	}
}

// SkinMotif draws, into dst's rectangle r, the synthetic motif the NSFW
// model reliably scores as explicit (hentai ≈ 0.97 at full frame): shaded
// skin-tone ellipses on a dark ground, from the same seed every time. It is
// the stand-in for "a small explicit element" in the tiling tests, since no
// real explicit images are available (or wanted) in the repository.
func SkinMotif(dst *image.NRGBA, r image.Rectangle) {
	SkinMotifSeed(dst, r, 19, 7)
}

// SkinMotifSeed is SkinMotif drawn from another seed: other ellipse
// layouts, tones and grounds. Not every seed scores as explicit; the
// sensitivity measurements (eval/nsfwtiles) keep the seeds the model scores
// as explicit at full frame.
func SkinMotifSeed(dst *image.NRGBA, r image.Rectangle, seed1, seed2 uint64) {
	rng := rand.New(rand.NewPCG(seed1, seed2))
	bg := color.NRGBA{uint8(rng.IntN(80)), uint8(rng.IntN(60)), uint8(rng.IntN(60)), 255}
	n := 1 + rng.IntN(4)
	tone := [3]float64{200 + rng.Float64()*55, 140 + rng.Float64()*60, 100 + rng.Float64()*60}
	type ell struct{ cx, cy, rx, ry float64 }
	var es []ell
	for k := 0; k < n; k++ {
		es = append(es, ell{rng.Float64() * 224, rng.Float64() * 224, 30 + rng.Float64()*90, 30 + rng.Float64()*90})
	}
	s := float64(r.Dx()) / 224
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := bg
			// Motif coordinates in its 224×224 design space.
			mx, my := float64(x-r.Min.X)/s, float64(y-r.Min.Y)*224/float64(r.Dy())
			for _, e := range es {
				d := math.Pow((mx-e.cx)/e.rx, 2) + math.Pow((my-e.cy)/e.ry, 2)
				if d < 1 {
					sh := 0.6 + 0.4*math.Sqrt(1-d)
					c = color.NRGBA{uint8(tone[0] * sh), uint8(tone[1] * sh), uint8(tone[2] * sh), 255}
				}
			}
			dst.SetNRGBA(x, y, c)
		}
	}
}

// PipelineDesign is design i of `make bench-pipeline` (and of the NSFW
// analyzer's benchmark, which times the analyzer on the same designs):
// six coloured discs on a transparent or solid canvas, 1200×1200 PNG or
// JPEG, and with probability bigShare a 4500×5400 PNG print file. The
// same i gives the same bytes.
func PipelineDesign(i uint64, bigShare float64) Case {
	r := rand.New(rand.NewPCG(i, 42))
	big := r.Float64() < bigShare
	w, h := 1200, 1200
	if big {
		w, h = 4500, 5400
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if !big && r.IntN(2) == 0 {
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	}
	for k := 0; k < 6; k++ {
		cx, cy := r.IntN(w), r.IntN(h)
		rad := w/10 + r.IntN(w/5)
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		for y := max(0, cy-rad); y < min(h, cy+rad); y++ {
			for x := max(0, cx-rad); x < min(w, cx+rad); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
					o := img.PixOffset(x, y)
					img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R+uint8(x%7), c.G+uint8(y%5), c.B, c.A
				}
			}
		}
	}
	var buf bytes.Buffer
	out := Case{Name: fmt.Sprintf("pipeline-%d", i), MediaType: "image/png"}
	if !big && r.IntN(2) == 0 {
		out.MediaType = "image/jpeg"
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70 + r.IntN(26)})
	} else {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		_ = enc.Encode(&buf, img)
	}
	out.Data = buf.Bytes()
	return out
}
