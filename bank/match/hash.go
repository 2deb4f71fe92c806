package match

import (
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/corona10/goimagehash"
	"github.com/corona10/goimagehash/etcs"
	"github.com/corona10/goimagehash/transforms"
)

// hashSize is the side of the normalised mask that is perceptually hashed
// (goimagehash's PerceptionHash works on 64×64).
const hashSize = 64

// maskImage trims m to its tight box, stretches it to 64×64 and weights it by
// a fixed ramp that has no symmetry of the square. Symmetric shapes (a Z, a
// swastika, a star — and many logos) otherwise zero half of the DCT
// coefficients pHash compares with their median, so those bits flip on
// noise. The ramp is applied in the normalised frame, to references and
// queries alike.
func maskImage(m Mask) (*image.RGBA, error) {
	tm := m.tight()
	if tm.W == 0 || tm.H == 0 {
		return nil, fmt.Errorf("hash: empty mask")
	}
	return rampImage(tm.shrink(hashSize, hashSize)), nil
}

// rampImage weights a hashSize×hashSize mask by maskImage's ramp.
func rampImage(r Mask) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, hashSize, hashSize))
	for i, v := range r.Pix {
		x, y := i%hashSize, i/hashSize
		wgt := 0.35 + 0.65*float64(x+2*y)/float64(3*(hashSize-1))
		g := uint8(float64(v)*wgt + 0.5)
		p := img.Pix[i*4:]
		p[0], p[1], p[2], p[3] = g, g, g, 255
	}
	return img
}

// hashSquare is HashMask of a mask already trimmed and stretched to
// hashSize×hashSize (Prepare stretches each turned reference once and
// derives its dihedral variants from the square: stretching commutes with
// them).
func hashSquare(r Mask) (uint64, error) {
	h, err := goimagehash.PerceptionHash(rampImage(r))
	if err != nil {
		return 0, fmt.Errorf("hash: %w", err)
	}
	return h.GetHash(), nil
}

// HashMask returns the 64-bit goimagehash PerceptionHash of m after trimming
// it to its tight box and stretching that box to 64×64 (see maskImage).
// Because the input is a binary shape mask (not the pixels' colours), the
// hash does not depend on the design's colours; callers hash the complement
// too for inverted art.
func HashMask(m Mask) (uint64, error) {
	img, err := maskImage(m)
	if err != nil {
		return 0, err
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		return 0, fmt.Errorf("hash: %w", err)
	}
	return h.GetHash(), nil
}

// hashWithMargins returns HashMask's code of m together with its bits
// ordered from least to most certain: a pHash bit is the sign of a DCT
// coefficient minus the coefficients' median, and the bits whose
// coefficient lies nearest the median are the ones noise flips. It runs
// goimagehash's own transforms (grey, 2-D DCT, 8×8 low frequencies,
// median), so the code is PerceptionHash's (a test holds them equal).
// pixels is scratch space of 64×64 values (nil: allocated), so that a caller
// hashing hundreds of regions allocates it once.
func hashWithMargins(m Mask, pixels []float64) (uint64, [64]uint8, error) {
	var order [64]uint8
	img, err := maskImage(m)
	if err != nil {
		return 0, order, err
	}
	if len(pixels) < hashSize*hashSize {
		pixels = make([]float64, hashSize*hashSize)
	}
	pixels = pixels[:hashSize*hashSize]
	transforms.Rgb2GrayFast(img, &pixels)
	transforms.DCT2DFast64(&pixels)
	flat := transforms.FlattenPixelsFast64(pixels, 8, 8)
	median := etcs.MedianOfPixelsFast64(flat)
	var code uint64
	for i, p := range flat {
		if p > median {
			code |= 1 << (63 - i)
		}
		order[i] = uint8(63 - i) // bit position of coefficient i
	}
	slices.SortStableFunc(order[:], func(a, b uint8) int {
		da, db := math.Abs(flat[63-a]-median), math.Abs(flat[63-b]-median)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	return code, order, nil
}
