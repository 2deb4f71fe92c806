package match

// claimFunc claims pixel i of a grid for a flood fill: it reports whether
// i was newly claimed (and marks it so, so that it is not claimed again).
type claimFunc func(i int) bool

// borderSeeds returns the pixels on the border of a w×h grid that claim
// claims, the seeds of a flood from outside.
func borderSeeds(w, h int, claim claimFunc) []int {
	seeds := make([]int, 0, 2*(w+h))
	for x := 0; x < w; x++ {
		for _, i := range [2]int{x, (h-1)*w + x} {
			if claim(i) {
				seeds = append(seeds, i)
			}
		}
	}
	for y := 0; y < h; y++ {
		for _, i := range [2]int{y * w, y*w + w - 1} {
			if claim(i) {
				seeds = append(seeds, i)
			}
		}
	}
	return seeds
}

// flood4 spreads from the claimed pixels on stack over a w×h grid,
// 4-connected, through every neighbour claim claims, and returns how many
// pixels it spread from (the seeds included).
func flood4(w, h int, stack []int, claim claimFunc) int {
	n := 0
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		x, y := i%w, i/w
		if x > 0 && claim(i-1) {
			stack = append(stack, i-1)
		}
		if x < w-1 && claim(i+1) {
			stack = append(stack, i+1)
		}
		if y > 0 && claim(i-w) {
			stack = append(stack, i-w)
		}
		if y < h-1 && claim(i+w) {
			stack = append(stack, i+w)
		}
	}
	return n
}
