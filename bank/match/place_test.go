package match

import (
	"image"
	"slices"
	"testing"
)

// TestOneMarkPerPlace: of findings whose boxes overlap by half or more,
// only the best-scoring is kept; protected findings stay and drop nothing.
func TestOneMarkPerPlace(t *testing.T) {
	t.Parallel()
	f := func(key string, score float64, box image.Rectangle, protected bool) *best {
		return &best{protected: protected, match: Match{Key: key, Score: score, IoU: 0.8, Box: box}}
	}
	a := image.Rect(100, 100, 200, 200)
	near := image.Rect(105, 95, 205, 195)
	far := image.Rect(400, 400, 500, 500)
	cases := []struct {
		name  string
		found []*best
		want  []string
	}{
		{"one", []*best{f("x", 0.98, a, false)}, []string{"x"}},
		{"same place: the better", []*best{f("x", 0.975, a, false), f("y", 0.99, near, false)}, []string{"y"}},
		{"inside: the better", []*best{f("x", 0.99, a, false), f("y", 0.975, image.Rect(120, 120, 160, 150), false)}, []string{"x"}},
		{"elsewhere: both", []*best{f("x", 0.975, a, false), f("y", 0.99, far, false)}, []string{"x", "y"}},
		{"protected stays", []*best{f("x", 0.99, a, false), f("sym", 0.97, near, true)}, []string{"sym", "x"}},
		{"protected drops nothing", []*best{f("sym", 0.99, a, true), f("x", 0.97, near, false)}, []string{"sym", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]*best{}
			for _, b := range tc.found {
				m[b.match.Key] = b
			}
			var got []string
			for _, b := range oneMarkPerPlace(m) {
				got = append(got, b.match.Key)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
		})
	}
}
