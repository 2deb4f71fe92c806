package match

import (
	"math"
	"sync"
)

type primitive struct {
	name string
	tmpl []template // the 8 dihedral variants
}

// primitives are the plain geometric shapes a reference must not be: a logo
// that is 90% a disc, a rectangle or a triangle cannot be told from any other
// disc, rectangle or triangle by its shape.
var primitives = sync.OnceValue(func() []primitive {
	mk := func(name string, in func(x, y float64) bool) primitive {
		var t template
		for y := 0; y < tmplSize; y++ {
			for x := 0; x < tmplSize; x++ {
				fx, fy := (float64(x)+0.5)/tmplSize, (float64(y)+0.5)/tmplSize
				if in(fx, fy) {
					t[y] |= 1 << x
				}
			}
		}
		p := primitive{name: name}
		for d := 0; d < 8; d++ {
			p.tmpl = append(p.tmpl, t.dihedral(d))
		}
		return p
	}
	ell := func(x, y float64) float64 { return math.Hypot(x-0.5, y-0.5) / 0.5 }
	out := []primitive{
		mk("rectangle", func(x, y float64) bool { return true }),
		mk("disc", func(x, y float64) bool { return ell(x, y) <= 1 }),
		mk("triangle", func(x, y float64) bool { return math.Abs(x-0.5) <= y/2 }),
		mk("right-triangle", func(x, y float64) bool { return x <= y }),
		mk("diamond", func(x, y float64) bool { return math.Abs(x-0.5)+math.Abs(y-0.5) <= 0.5 }),
		mk("parallelogram", func(x, y float64) bool { return x >= 0.3*(1-y) && x <= 0.7+0.3*(1-y) }),
		mk("rounded-rectangle", func(x, y float64) bool {
			dx, dy := math.Max(0, math.Abs(x-0.5)-0.3), math.Max(0, math.Abs(y-0.5)-0.3)
			return math.Hypot(dx, dy) <= 0.2
		}),
	}
	for _, th := range []float64{0.08, 0.12, 0.2, 0.3} {
		th := th
		for _, rad := range []float64{0.15, 0.3, 0.45} {
			rad := rad
			out = append(out, mk("rounded-frame", func(x, y float64) bool {
				in := func(x, y, inset, r float64) bool {
					dx := math.Max(0, math.Abs(x-0.5)-(0.5-inset-r))
					dy := math.Max(0, math.Abs(y-0.5)-(0.5-inset-r))
					return math.Hypot(dx, dy) <= r
				}
				return in(x, y, 0, rad) && !in(x, y, th, math.Max(0.01, rad-th))
			}))
		}
		out = append(out,
			mk("ring", func(x, y float64) bool { e := ell(x, y); return e <= 1 && e >= 1-2*th }),
			mk("frame", func(x, y float64) bool {
				return x < th || y < th || x > 1-th || y > 1-th
			}))
	}
	return out
})

// genericShape names the primitive t matches (IoU ≥ 0.9 and outline
// F-score ≥ 0.9: a disc with a small detailed hole is not generic), or "".
func genericShape(t *template) string {
	for _, p := range primitives() {
		for i := range p.tmpl {
			if u, e := similarity(t, &p.tmpl[i], 1); u >= 0.9 && e >= 0.9 {
				return p.name
			}
		}
	}
	return ""
}
