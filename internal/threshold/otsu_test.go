package threshold

import (
	"fmt"
	"testing"
)

func TestOtsu(t *testing.T) {
	t.Parallel()
	hist := func(levels map[int]int) *[256]int {
		var h [256]int
		for l, c := range levels {
			h[l] = c
		}
		return &h
	}
	tests := []struct {
		name string
		hist *[256]int
		want int
	}{
		{"empty", hist(nil), 127},
		{"one level", hist(map[int]int{200: 50}), 127},
		{"two levels", hist(map[int]int{20: 50, 220: 50}), 20},
		{"dark ink on light paper", hist(map[int]int{30: 10, 40: 10, 200: 80, 210: 80}), 40},
	}
	for _, tc := range tests {
		if got := Otsu(tc.hist); got != tc.want {
			t.Errorf("%s: Otsu = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func ExampleOtsu() {
	var h [256]int
	h[10], h[240] = 3, 5
	fmt.Println(Otsu(&h))
	// Output: 10
}
