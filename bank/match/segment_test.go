package match

import (
	"math/rand/v2"
	"testing"
)

// components allocates a few buffers whatever the number of components:
// a noisy photo ground has tens of thousands of them, and a list of
// pixels each (match-12) cost more than the labelling.
// (Not parallel: testing.AllocsPerRun refuses parallel tests.)
func TestComponentsAllocateOnce(t *testing.T) {
	const w, h = 200, 150
	rng := rand.New(rand.NewPCG(3, 4))
	labels := make([]uint8, w*h)
	for i := range labels {
		labels[i] = uint8(rng.IntN(6))
	}
	comps := components(labels, w, h, 255, 0)
	if len(comps) < 1000 {
		t.Fatalf("%d components: the noise should give thousands", len(comps))
	}
	// every pixel in exactly one component, boxes holding their pixels
	seen := make([]bool, w*h)
	for _, c := range comps {
		if c.area != len(c.pix) {
			t.Fatalf("area %d, %d pixels", c.area, len(c.pix))
		}
		for _, p := range c.pix {
			x, y := int(p)%w, int(p)/w
			if seen[p] || labels[p] != c.label || x < c.box.Min.X || x >= c.box.Max.X || y < c.box.Min.Y || y >= c.box.Max.Y {
				t.Fatalf("pixel %d misplaced", p)
			}
			seen[p] = true
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("pixel %d in no component", i)
		}
	}
	if a := testing.AllocsPerRun(3, func() { components(labels, w, h, 255, 0) }); a > 20 {
		t.Fatalf("%.0f allocations for %d components, want a few", a, len(comps))
	}
}
