package match

import (
	"math/rand/v2"
	"testing"
)

// TestShrinkEqualsResize: the query side's shrink gives Resize's pixels
// (within one grey level, at exact halves) on random binary masks of many
// sizes, and tight equals Trim.
func TestShrinkEqualsResize(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	off, total := 0, 0
	for n := 0; n < 400; n++ {
		m := NewMask(1+rng.IntN(500), 1+rng.IntN(500))
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				if (x/(1+n%9)+y/(1+n%5))%3 == 0 || rng.IntN(7) == 0 {
					m.Pix[y*m.W+x] = 255
				}
			}
		}
		if m.W > 8 && n%3 == 0 { // an empty margin for tight to cut
			for y := 0; y < m.H; y++ {
				m.Pix[y*m.W] = 0
			}
		}
		a, b := m.Trim(), m.tight()
		if a.W != b.W || a.H != b.H || string(a.Pix) != string(b.Pix) {
			t.Fatalf("%d×%d: tight differs from Trim", m.W, m.H)
		}
		for _, sz := range [][2]int{{64, 64}, {48, 48}, {17, 33}} {
			want, got := a.Resize(sz[0], sz[1]), a.shrink(sz[0], sz[1])
			total += len(want.Pix)
			for i := range want.Pix {
				d := int(want.Pix[i]) - int(got.Pix[i])
				if d < -1 || d > 1 {
					t.Fatalf("%d×%d → %v: pixel %d is %d, Resize %d", a.W, a.H, sz, i, got.Pix[i], want.Pix[i])
				}
				if d != 0 {
					off++
				}
			}
		}
	}
	if off*100000 > total {
		t.Errorf("%d of %d pixels off by one; want only the rare exact halves", off, total)
	}
}
