package match

import (
	"math/bits"
	"testing"
)

// TestPreparedVariantsAreTurnedReferences holds Prepare's shortcut (one
// rotation and one stretch per angle, dihedral variants derived from the
// square) to hashing each transformed reference directly: the codes agree
// up to resampling noise.
func TestPreparedVariantsAreTurnedReferences(t *testing.T) {
	t.Parallel()
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// An asymmetric shape: a disc with a bar and a notch, 128×100.
	mk := NewMask(128, 100)
	for y := 0; y < 100; y++ {
		for x := 0; x < 128; x++ {
			in := (x-50)*(x-50)+(y-50)*(y-50) < 45*45 || (x > 100 && y > 10 && y < 40)
			if (x-60)*(x-60)+(y-30)*(y-30) < 12*12 {
				in = false
			}
			if in {
				mk.Pix[y*128+x] = 255
			}
		}
	}
	p, err := m.Prepare("k", mk, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.hashes) != 8*len(DefaultAngles) {
		t.Fatalf("%d hashes, want %d", len(p.hashes), 8*len(DefaultAngles))
	}
	// Prepare's normalisation: trimmed, 128 px on the longer side, binary.
	tm := mk.Trim()
	sc := float64(refSide) / float64(max(tm.W, tm.H))
	base := tm.Resize(max(1, int(float64(tm.W)*sc+0.5)), max(1, int(float64(tm.H)*sc+0.5)))
	for i, v := range base.Pix {
		base.Pix[i] = map[bool]uint8{true: 255, false: 0}[v >= 128]
	}
	worst := 0
	for _, h := range p.hashes {
		direct, err := HashMask(base.Dihedral(h.dihedral).Rotate(h.angle))
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, bits.OnesCount64(direct^h.hash))
	}
	if worst > 2 {
		t.Fatalf("a prepared variant lies %d bits from its directly hashed shape", worst)
	}
	t.Logf("largest distance to the directly hashed variant: %d bits", worst)
}
