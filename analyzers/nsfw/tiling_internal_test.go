package nsfw

import (
	"math/rand/v2"
	"testing"
)

// TestColourShares: flat, two-colour and textured inputs (what the tile
// skips decide on).
func TestColourShares(t *testing.T) {
	t.Parallel()
	const n = 224 * 224
	fill := func(f func(i int) (r, g, b float32)) []float32 {
		in := make([]float32, n*3)
		for i := 0; i < n; i++ {
			in[i*3], in[i*3+1], in[i*3+2] = f(i)
		}
		return in
	}
	rng := rand.New(rand.NewPCG(1, 1))
	tl := Tiling{}.WithDefaults()
	for _, tc := range []struct {
		name           string
		in             []float32
		flat, two      float64 // lower bounds
		flatMax, twoMx float64 // upper bounds
		skip           bool
	}{
		{"flat with noise", fill(func(int) (float32, float32, float32) { return 0.5 + 0.02*rng.Float32(), 0.3, 0.2 }), 0.99, 0.99, 1, 1, true},
		{"disc edge: 60/40 two colours", fill(func(i int) (float32, float32, float32) {
			if i%224 < 134 {
				return 0.9, 0.1, 0.1
			}
			return 0.1, 0.1, 0.9
		}), 0.59, 0.99, 0.61, 1, true},
		{"three colours in thirds", fill(func(i int) (float32, float32, float32) {
			return []float32{0.1, 0.5, 0.9}[i%224*3/224], 0.2, 0.2
		}), 0.3, 0.6, 0.34, 0.67, false},
		{"grain", fill(func(int) (float32, float32, float32) { return rng.Float32(), rng.Float32(), rng.Float32() }), 0, 0, 0.05, 0.1, false},
	} {
		flat, two := colourShares(tc.in)
		if flat < tc.flat || flat > tc.flatMax || two < tc.two || two > tc.twoMx {
			t.Errorf("%s: shares %.3f, %.3f outside [%v,%v], [%v,%v]", tc.name, flat, two, tc.flat, tc.flatMax, tc.two, tc.twoMx)
		}
		if got := tl.lowInformation(tc.in); got != tc.skip {
			t.Errorf("%s: skipped %v, want %v", tc.name, got, tc.skip)
		}
	}
	off := Tiling{FlatSkip: -1, TwoColourSkip: -1}
	if off.lowInformation(fill(func(int) (float32, float32, float32) { return 0, 0, 0 })) {
		t.Error("skips off: a flat tile was skipped")
	}
}

// TestMaxVerifyDefault: up to 16 tiles are checked by the second model
// (calibrated in docs/nsfw.md), never more than the tiles there are.
func TestMaxVerifyDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   Tiling
		want int
	}{
		{Tiling{}, 16},
		{Tiling{MaxTiles: 10}, 10},
		{Tiling{MaxVerify: 4}, 4},
	} {
		got := tc.in.WithDefaults()
		if got.MaxVerify != tc.want {
			t.Errorf("%+v: MaxVerify %d, want %d", tc.in, got.MaxVerify, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%+v: %v", tc.in, err)
		}
	}
}

// TestCheckedWhole: only unsafe scores inside [lo, hi) are replaced by the
// geometric mean with the second model's; drawing never.
func TestCheckedWhole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		nsfwjs, second [3]float64
		want           [3]float64
	}{
		{"explicit in the band, second model disagrees", [3]float64{0.36, 0.02, 0.1}, [3]float64{0.01, 0.0, 0.9}, [3]float64{0.06, 0.02, 0.1}},
		{"explicit in the band, second model agrees", [3]float64{0.4, 0.1, 0.1}, [3]float64{0.9, 0.1, 0.0}, [3]float64{0.6, 0.1, 0.1}},
		{"explicit at the band's top stands", [3]float64{0.5, 0.3, 0.1}, [3]float64{0.0, 0.0, 1}, [3]float64{0.5, 0.0, 0.1}},
		{"below the floor stands", [3]float64{0.2, 0.1, 0.7}, [3]float64{0.9, 0.9, 0}, [3]float64{0.2, 0.1, 0.7}},
	} {
		if got := checkedWhole(tc.nsfwjs, tc.second, 0.25, 0.5); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
