package match_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
)

type fixture struct {
	m     *match.Matcher
	icons map[string]iconify.Icon
}

// setup builds a matcher holding the five test logos and the symbol bank.
func setup(t *testing.T) *fixture {
	t.Helper()
	set, err := iconify.Load("testdata")
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{m: m, icons: map[string]iconify.Icon{}}
	for _, ic := range set.Icons {
		img, err := iconify.Render(ic, 192, color.NRGBA{A: 255})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add(ic.Name, match.MaskFromAlpha(img), 0); err != nil {
			t.Fatal(err)
		}
		f.icons[ic.Name] = ic
	}
	for _, s := range symbols.All() {
		if err := m.Add(s.ID, match.MaskFromAlpha(s.Draw(256)), 0); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func canvas(w, h int, bg func(x, y int) color.NRGBA) *image.NRGBA {
	c := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c.SetNRGBA(x, y, bg(x, y))
		}
	}
	return c
}

func solid(c color.NRGBA) func(x, y int) color.NRGBA { return func(int, int) color.NRGBA { return c } }

func gradient(x, y int) color.NRGBA {
	return color.NRGBA{uint8(40 + x/8), uint8(60 + y/10), 180, 255}
}

func mirror(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	w := img.Rect.Dx()
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < w; x++ {
			out.SetNRGBA(w-1-x, y, img.NRGBAAt(x, y))
		}
	}
	return out
}

func quarter(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.SetNRGBA(y, w-1-x, img.NRGBAAt(x, y))
		}
	}
	return out
}

// textAcross draws letter-like blocks (a line of text in a third colour)
// over r.
func textAcross(r image.Rectangle) func(*image.NRGBA) *image.NRGBA {
	return func(img *image.NRGBA) *image.NRGBA {
		ink := image.NewUniform(color.NRGBA{230, 120, 20, 255})
		for x := r.Min.X; x < r.Max.X; x += 34 {
			draw.Draw(img, image.Rect(x, r.Min.Y, min(x+26, r.Max.X), r.Max.Y), ink, image.Point{}, draw.Src)
		}
		return img
	}
}

func invert(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = 255-img.Pix[i], 255-img.Pix[i+1], 255-img.Pix[i+2], img.Pix[i+3]
	}
	return out
}

func TestFindsLogosInDesigns(t *testing.T) {
	t.Parallel()
	f := setup(t)
	red := color.NRGBA{200, 30, 40, 255}
	tests := []struct {
		name       string
		logo       string
		size       int
		angle      float64
		colour     color.NRGBA
		bg         func(x, y int) color.NRGBA
		tweak      func(*image.NRGBA) *image.NRGBA // applied to the rendered logo
		after      func(*image.NRGBA) *image.NRGBA // applied to the whole design
		distractor bool
	}{
		{name: "plain", logo: "vk", size: 500, colour: color.NRGBA{0, 0, 0, 255}, bg: solid(color.NRGBA{255, 255, 255, 255})},
		{name: "recoloured on gradient", logo: "gofundme", size: 420, colour: color.NRGBA{250, 220, 40, 255}, bg: gradient},
		{name: "rotated 7°", logo: "coreboot", size: 450, angle: 7, colour: red, bg: solid(color.NRGBA{240, 240, 230, 255})},
		{name: "rotated -9° small", logo: "matomo", size: 280, angle: -9, colour: color.NRGBA{20, 90, 200, 255}, bg: solid(color.NRGBA{250, 250, 250, 255})},
		{name: "mirrored", logo: "wgpu", size: 460, colour: color.NRGBA{10, 10, 10, 255}, bg: solid(color.NRGBA{255, 200, 120, 255}), tweak: mirror},
		{name: "quarter turn", logo: "vk", size: 400, colour: color.NRGBA{90, 20, 120, 255}, bg: solid(color.NRGBA{255, 255, 255, 255}), tweak: quarter},
		{name: "inverted design", logo: "gofundme", size: 480, colour: color.NRGBA{0, 0, 0, 255}, bg: solid(color.NRGBA{255, 255, 255, 255}), after: invert},
		{name: "transparent with distractor", logo: "coreboot", size: 520, colour: color.NRGBA{30, 160, 60, 255}, distractor: true},
		// match-8: turned beyond ±10°, small, and cut by a line of text.
		{name: "rotated 24°", logo: "coreboot", size: 450, angle: 24, colour: red, bg: solid(color.NRGBA{240, 240, 230, 255})},
		{name: "rotated -27° mirrored", logo: "wgpu", size: 420, angle: -27, colour: color.NRGBA{10, 10, 10, 255}, bg: gradient, tweak: mirror},
		{name: "8 % of the canvas", logo: "vk", size: 96, colour: color.NRGBA{0, 0, 0, 255}, bg: gradient},
		{name: "text across", logo: "vk", size: 460, colour: color.NRGBA{20, 40, 160, 255}, bg: solid(color.NRGBA{255, 255, 255, 255}), after: textAcross(image.Rect(110, 200+460*45/100, 150+460+60, 200+460*58/100))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bg := tc.bg
			if bg == nil {
				bg = solid(color.NRGBA{})
			}
			c := canvas(1200, 1200, bg)
			logo, err := iconify.RenderRotated(f.icons[tc.logo], tc.size, tc.colour, tc.angle)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tweak != nil {
				logo = tc.tweak(logo)
			}
			at := image.Pt(150, 200)
			draw.Draw(c, logo.Rect.Add(at), logo, image.Point{}, draw.Over)
			if tc.distractor {
				star := symbols.All()[8].Draw(220) // red star, a different bank entry
				draw.Draw(c, star.Rect.Add(image.Pt(900, 900)), star, image.Point{}, draw.Over)
			}
			if tc.after != nil {
				c = tc.after(c)
			}
			got, st, err := f.m.Find(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			var hit *match.Match
			for i := range got {
				if got[i].Key == tc.logo {
					hit = &got[i]
				}
			}
			if hit == nil {
				t.Fatalf("%s not found; got %+v (stats %+v)", tc.logo, got, st)
			}
			// The box must lie on the logo.
			want := alphaBox(logo).Add(at)
			inter := hit.Box.Intersect(want)
			if float64(inter.Dx()*inter.Dy()) < 0.5*float64(want.Dx()*want.Dy()) {
				t.Errorf("box %v does not cover the logo at %v", hit.Box, want)
			}
			for _, m := range got {
				if m.Key != tc.logo && !(tc.distractor && m.Key == "red-star") {
					t.Errorf("unexpected match %s (score %.3f)", m.Key, m.Score)
				}
			}
		})
	}
}

func TestNoMatchOnBrandFreeDesigns(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		img  *image.NRGBA
	}{
		{"blank", canvas(800, 800, solid(color.NRGBA{255, 255, 255, 255}))},
		{"gradient", canvas(900, 700, gradient)},
		{"blobs", func() *image.NRGBA {
			c := canvas(1000, 1000, solid(color.NRGBA{250, 250, 250, 255}))
			for y := 0; y < 1000; y++ {
				for x := 0; x < 1000; x++ {
					if math.Hypot(float64(x-300), float64(y-300)) < 180 || (x > 600 && x < 900 && y > 550 && y < 700) {
						c.SetNRGBA(x, y, color.NRGBA{30, 30, 200, 255})
					}
				}
			}
			return c
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := f.m.Find(context.Background(), tc.img)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("brand-free design matched %+v", got)
			}
		})
	}
}

func TestPreparedRoundTrip(t *testing.T) {
	t.Parallel()
	m, _ := match.New(match.Config{})
	s := symbols.All()[0]
	p, err := m.Prepare(s.ID, match.MaskFromAlpha(s.Draw(200)), 0.9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.MarshalBinary()
	var q match.Prepared
	if err := q.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if q.Key() != p.Key() || len(q.Hashes()) != len(p.Hashes()) || q.Hashes()[3] != p.Hashes()[3] {
		t.Fatalf("round trip changed the reference")
	}
	if err := q.UnmarshalBinary([]byte("MUSTER-MATCH-0\n")); err == nil {
		t.Fatal("stale encoding accepted")
	}
	if _, err := m.Prepare("empty", match.NewMask(10, 10), 0); err == nil {
		t.Fatal("empty reference accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []match.Config{{WorkSize: 10}, {Radius: 99}, {Threshold: 2}, {Angles: []float64{60}}} {
		if _, err := match.New(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func alphaBox(img *image.NRGBA) image.Rectangle {
	var r image.Rectangle
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if img.NRGBAAt(x, y).A >= 128 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func TestExplain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	white := solid(color.NRGBA{255, 255, 255, 255})
	withLogo := canvas(1000, 1000, white)
	logo, err := iconify.RenderRotated(f.icons["matomo"], 400, color.NRGBA{20, 90, 200, 255}, 0)
	if err != nil {
		t.Fatal(err)
	}
	draw.Draw(withLogo, logo.Rect.Add(image.Pt(300, 300)), logo, image.Point{}, draw.Over)
	tests := []struct {
		name, key string
		design    *image.NRGBA
		want      string
	}{
		{"present", "matomo", withLogo, match.ReasonReported},
		{"absent", "vk", withLogo, match.ReasonNoShape},
		{"unknown key", "no-such-entry", withLogo, match.ReasonUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := f.m.Explain(context.Background(), tc.design, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if e.Reason != tc.want {
				t.Fatalf("reason = %s, want %s (%s)", e.Reason, tc.want, e)
			}
			if tc.want == match.ReasonReported && (e.EdgeF < e.Threshold || e.Box.Empty()) {
				t.Fatalf("reported without a verified region: %s", e)
			}
		})
	}
}
