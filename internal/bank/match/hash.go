package match

import (
	"fmt"
	"image"

	"github.com/corona10/goimagehash"
)

// hashSize is the side of the normalised mask that is perceptually hashed
// (goimagehash's PerceptionHash works on 64×64).
const hashSize = 64

// HashMask returns the 64-bit goimagehash PerceptionHash of m after trimming
// it to its tight box and stretching that box to 64×64. Because the input is
// a binary shape mask (not the pixels' colours), the hash does not depend on
// the design's colours; callers hash the complement too for inverted art.
func HashMask(m Mask) (uint64, error) {
	tm := m.Trim()
	if tm.W == 0 || tm.H == 0 {
		return 0, fmt.Errorf("hash: empty mask")
	}
	r := tm.Resize(hashSize, hashSize)
	img := image.NewRGBA(image.Rect(0, 0, hashSize, hashSize))
	for i, v := range r.Pix {
		// Weight the shape by a fixed ramp that has no symmetry of the
		// square. Symmetric shapes (a Z, a swastika, a star — and many logos)
		// otherwise zero half of the DCT coefficients pHash compares with
		// their median, so those bits flip on noise. The ramp is applied in
		// the normalised frame, to references and queries alike.
		x, y := i%hashSize, i/hashSize
		wgt := 0.35 + 0.65*float64(x+2*y)/float64(3*(hashSize-1))
		g := uint8(float64(v)*wgt + 0.5)
		p := img.Pix[i*4:]
		p[0], p[1], p[2], p[3] = g, g, g, 255
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		return 0, fmt.Errorf("hash: %w", err)
	}
	return h.GetHash(), nil
}
