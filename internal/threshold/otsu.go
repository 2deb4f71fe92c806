// Package threshold chooses grey-level thresholds for binarising images.
package threshold

// Otsu returns the grey level t that best separates a 256-bin histogram
// into the classes ≤ t and > t (Otsu's method: the largest between-class
// variance). A histogram with one occupied level, or none, gives 127.
func Otsu(hist *[256]int) int {
	var n, sum float64
	for i, c := range hist {
		n += float64(c)
		sum += float64(i * c)
	}
	var sumB, wB float64
	best, thr := -1.0, 127
	for t := 0; t < 256; t++ {
		wB += float64(hist[t])
		if wB == 0 {
			continue
		}
		wF := n - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB, mF := sumB/wB, (sum-sumB)/wF
		if v := wB * wF * (mB - mF) * (mB - mF); v > best {
			best, thr = v, t
		}
	}
	return thr
}
