package match

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHashWithMarginsIsPerceptionHash(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		w, h := 10+r.IntN(200), 10+r.IntN(200)
		m := NewMask(w, h)
		for k := 0; k < 1+r.IntN(6); k++ {
			x0, y0 := r.IntN(w), r.IntN(h)
			x1, y1 := x0+r.IntN(w-x0)+1, y0+r.IntN(h-y0)+1
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					m.Pix[y*w+x] = 255
				}
			}
		}
		want, err := HashMask(m)
		if err != nil {
			t.Fatal(err)
		}
		got, order, err := hashWithMargins(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("mask %d: hashWithMargins %016x, PerceptionHash %016x", n, got, want)
		}
		seen := map[uint8]bool{}
		for _, b := range order {
			seen[b] = true
		}
		if len(seen) != 64 {
			t.Fatalf("order is not a permutation: %v", order)
		}
	}
}

func TestReferenceAngles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		elongation float64
		want       []float64
	}{
		{"compact", 1, []float64{-10, -5, 0, 5, 10}},
		{"just under 2", 1.99, []float64{-10, -5, 0, 5, 10}},
		{"elongated", 2, []float64{-10, -7.5, -5, -2.5, 0, 2.5, 5, 7.5, 10}},
		{"wordmark", 6, []float64{-10, -8.75, -7.5, -6.25, -5, -3.75, -2.5, -1.25, 0, 1.25, 2.5, 3.75, 5, 6.25, 7.5, 8.75, 10}},
	}
	// The default grid reaches the ±30° designs turn art by (match-8).
	if d := DefaultAngles; d[0] != -30 || d[len(d)-1] != 30 {
		t.Fatalf("DefaultAngles = %v, want ±30°", d)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := referenceAngles([]float64{-10, -5, 0, 5, 10}, tc.elongation); !slices.Equal(got, tc.want) {
				t.Fatalf("referenceAngles(%g) = %v, want %v", tc.elongation, got, tc.want)
			}
		})
	}
}

func TestLineArtAndDenseOutlines(t *testing.T) {
	t.Parallel()
	draw := func(f func(x, y int) bool) *template {
		var tm template
		for y := 0; y < tmplSize; y++ {
			for x := 0; x < tmplSize; x++ {
				if f(x, y) {
					tm[y] |= 1 << x
				}
			}
		}
		return &tm
	}
	tests := []struct {
		name        string
		tmpl        *template
		thin, dense bool
	}{
		{"filled square", draw(func(x, y int) bool { return x >= 4 && x < 44 && y >= 4 && y < 44 }), false, false},
		{"square outline, 2 px", draw(func(x, y int) bool {
			in := x >= 4 && x < 44 && y >= 4 && y < 44
			return in && (x < 6 || x >= 42 || y < 6 || y >= 42)
		}), true, false},
		{"stripes", draw(func(x, y int) bool { return x%4 < 2 }), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := thin(tc.tmpl); got != tc.thin {
				t.Errorf("thin = %v, want %v", got, tc.thin)
			}
			if got := outlineDensity(tc.tmpl) >= denseOutline; got != tc.dense {
				t.Errorf("dense = %v (density %.2f), want %v", got, outlineDensity(tc.tmpl), tc.dense)
			}
		})
	}
}
