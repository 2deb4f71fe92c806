package ocr

import (
	"math"
	"sort"
)

// pt is a point in pixel coordinates (x right, y down).
type pt struct{ X, Y float64 }

func (a pt) add(b pt) pt             { return pt{a.X + b.X, a.Y + b.Y} }
func (a pt) sub(b pt) pt             { return pt{a.X - b.X, a.Y - b.Y} }
func (a pt) mul(k float64) pt        { return pt{a.X * k, a.Y * k} }
func (a pt) dot(b pt) float64        { return a.X*b.X + a.Y*b.Y }
func (a pt) cross(b pt) float64      { return a.X*b.Y - a.Y*b.X }
func (a pt) norm() float64           { return math.Hypot(a.X, a.Y) }
func (a pt) dist(b pt) float64       { return a.sub(b).norm() }
func (a pt) scale(sx, sy float64) pt { return pt{a.X * sx, a.Y * sy} }
func (a pt) unit() pt {
	n := a.norm()
	if n == 0 {
		return pt{1, 0}
	}
	return pt{a.X / n, a.Y / n}
}

// convexHull returns the hull of ps counter-clockwise in image
// coordinates (Andrew's monotone chain), without repeated points.
func convexHull(ps []pt) []pt {
	if len(ps) < 3 {
		return append([]pt(nil), ps...)
	}
	s := append([]pt(nil), ps...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].X != s[j].X {
			return s[i].X < s[j].X
		}
		return s[i].Y < s[j].Y
	})
	h := make([]pt, 0, 2*len(s))
	for _, p := range s {
		for len(h) >= 2 && h[len(h)-1].sub(h[len(h)-2]).cross(p.sub(h[len(h)-2])) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	lower := len(h) + 1
	for i := len(s) - 2; i >= 0; i-- {
		p := s[i]
		for len(h) >= lower && h[len(h)-1].sub(h[len(h)-2]).cross(p.sub(h[len(h)-2])) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	return h[:len(h)-1]
}

// rotRect is a rotated rectangle: centre, unit axis U (the side of length
// W) and its normal V (length H).
type rotRect struct {
	C    pt
	U, V pt
	W, H float64
}

// corners returns the four corners.
func (r rotRect) corners() [4]pt {
	u, v := r.U.mul(r.W/2), r.V.mul(r.H/2)
	return [4]pt{r.C.sub(u).sub(v), r.C.add(u).sub(v), r.C.add(u).add(v), r.C.sub(u).add(v)}
}

// short is the shorter side, as cv2.minAreaRect's min(size).
func (r rotRect) short() float64 { return math.Min(r.W, r.H) }

// minAreaRect is the minimum-area enclosing rectangle of a point set
// (rotating calipers over the convex hull), as cv2.minAreaRect.
func minAreaRect(ps []pt) rotRect {
	h := convexHull(ps)
	switch len(h) {
	case 0:
		return rotRect{U: pt{1, 0}, V: pt{0, 1}}
	case 1:
		return rotRect{C: h[0], U: pt{1, 0}, V: pt{0, 1}}
	case 2:
		u := h[1].sub(h[0])
		return rotRect{C: h[0].add(h[1]).mul(0.5), U: u.unit(), V: pt{-u.unit().Y, u.unit().X}, W: u.norm()}
	}
	best := rotRect{}
	bestArea := math.Inf(1)
	for i := range h {
		u := h[(i+1)%len(h)].sub(h[i]).unit()
		v := pt{-u.Y, u.X}
		minU, maxU, minV, maxV := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, p := range h {
			a, b := p.dot(u), p.dot(v)
			minU, maxU = math.Min(minU, a), math.Max(maxU, a)
			minV, maxV = math.Min(minV, b), math.Max(maxV, b)
		}
		if area := (maxU - minU) * (maxV - minV); area < bestArea {
			bestArea = area
			c := u.mul((minU + maxU) / 2).add(v.mul((minV + maxV) / 2))
			best = rotRect{C: c, U: u, V: v, W: maxU - minU, H: maxV - minV}
		}
	}
	return best
}

// polyArea is the absolute area of a simple polygon.
func polyArea(p []pt) float64 {
	var a float64
	for i := range p {
		a += p[i].cross(p[(i+1)%len(p)])
	}
	return math.Abs(a) / 2
}

// polyPerimeter is the closed perimeter.
func polyPerimeter(p []pt) float64 {
	var l float64
	for i := range p {
		l += p[i].dist(p[(i+1)%len(p)])
	}
	return l
}

// inConvex reports whether q lies inside (or on) the convex polygon p.
func inConvex(p []pt, q pt) bool {
	sign := 0.0
	for i := range p {
		c := p[(i+1)%len(p)].sub(p[i]).cross(q.sub(p[i]))
		if c == 0 {
			continue
		}
		if sign == 0 {
			sign = c
		} else if (c > 0) != (sign > 0) {
			return false
		}
	}
	return true
}

// bounds is an axis-aligned box.
type bounds struct{ X0, Y0, X1, Y1 float64 }

func boundsOf(ps []pt) bounds {
	b := bounds{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range ps {
		b.X0, b.Y0 = math.Min(b.X0, p.X), math.Min(b.Y0, p.Y)
		b.X1, b.Y1 = math.Max(b.X1, p.X), math.Max(b.Y1, p.Y)
	}
	return b
}

func (b bounds) area() float64 { return math.Max(0, b.X1-b.X0) * math.Max(0, b.Y1-b.Y0) }

func (b bounds) intersect(o bounds) bounds {
	return bounds{math.Max(b.X0, o.X0), math.Max(b.Y0, o.Y0), math.Min(b.X1, o.X1), math.Min(b.Y1, o.Y1)}
}

func (b bounds) union(o bounds) bounds {
	return bounds{math.Min(b.X0, o.X0), math.Min(b.Y0, o.Y0), math.Max(b.X1, o.X1), math.Max(b.Y1, o.Y1)}
}
