package match

import (
	"math"
	"testing"
)

// drawTemplate fills a template with the shape in(x, y), coordinates in
// [0,1]² (y down).
func drawTemplate(in func(x, y float64) bool) template {
	var t template
	for y := 0; y < tmplSize; y++ {
		for x := 0; x < tmplSize; x++ {
			if in((float64(x)+0.5)/tmplSize, (float64(y)+0.5)/tmplSize) {
				t[y] |= 1 << x
			}
		}
	}
	return t
}

// sparkle is a four-point star with concave sides (astroid-like).
func sparkle(x, y float64) bool {
	dx, dy := math.Abs(x-0.5)/0.5, math.Abs(y-0.5)/0.5
	return math.Pow(dx, 0.6)+math.Pow(dy, 0.6) <= 1
}

// flag is an asymmetric shape: a pole with a pennant and a foot.
func flag(x, y float64) bool {
	pole := x < 0.15
	pennant := y < 0.5 && x < 0.15+0.85*(1-2*math.Abs(y-0.25)*2)
	foot := y > 0.85 && x < 0.45
	return pole || pennant || foot
}

// swastika is four-fold rotation-symmetric but not mirror-symmetric.
func swastika(x, y float64) bool {
	in := func(x0, y0, x1, y1 float64) bool { return x >= x0 && x < x1 && y >= y0 && y < y1 }
	return in(0.4, 0, 0.6, 1) || in(0, 0.4, 1, 0.6) ||
		in(0.6, 0, 1, 0.2) || in(0.8, 0.6, 1, 1) || in(0, 0.8, 0.4, 1) || in(0, 0, 0.2, 0.4)
}

func TestSymmetryOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   func(x, y float64) bool
		want int
	}{
		{"disc", func(x, y float64) bool { return math.Hypot(x-0.5, y-0.5) <= 0.5 }, 8},
		{"sparkle", sparkle, 8},
		{"swastika", swastika, 4},
		{"bar", func(x, y float64) bool { return y > 0.3 && y < 0.7 }, 4},
		{"flag", flag, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm := drawTemplate(tc.in)
			if got := symmetryOrder(&tm); got != tc.want {
				t.Errorf("symmetryOrder = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestLowInformation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   func(x, y float64) bool
		want bool
	}{
		{"sparkle", sparkle, true},
		{"small diamond", func(x, y float64) bool { return math.Abs(x-0.5)+math.Abs(y-0.5) <= 0.3 }, true},
		{"disc", func(x, y float64) bool { return math.Hypot(x-0.5, y-0.5) <= 0.5 }, true},
		{"ring", func(x, y float64) bool { r := math.Hypot(x-0.5, y-0.5); return r <= 0.5 && r >= 0.35 }, true},
		{"ring with a gap", func(x, y float64) bool {
			r := math.Hypot(x-0.5, y-0.5)
			return r <= 0.5 && r >= 0.35 && !(x > 0.5 && math.Abs(y-0.5) < 0.12)
		}, false},
		{"swastika", swastika, false},
		{"flag", flag, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm := drawTemplate(tc.in)
			if got := lowInformation(&tm); got != tc.want {
				t.Errorf("lowInformation = %v (outline information %.1f, disc %.1f), want %v",
					got, outlineInformation(&tm), discInformation(), tc.want)
			}
		})
	}
}
