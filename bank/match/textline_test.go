package match

import (
	"image"
	"testing"
)

// TestInTextLine: a region is text when two same-colour components of
// similar height sit beside it along a row; not when it is alone, beside
// small or large shapes, stacked, of another colour, or far apart.
func TestInTextLine(t *testing.T) {
	t.Parallel()
	box := func(x, y, w, h int) component {
		return component{area: w * h / 2, box: image.Rect(x, y, x+w, y+h)}
	}
	// The region is comps[0] in every case: a glyph 40 px high at (100, 100).
	region := box(100, 100, 30, 40)
	cases := []struct {
		name   string
		others []component
		want   bool
	}{
		{"alone", nil, false},
		{"word: two letters to its right", []component{box(134, 100, 28, 40), box(166, 110, 24, 30)}, true},
		{"word: one letter each side", []component{box(66, 100, 30, 40), box(134, 102, 26, 38)}, true},
		{"one neighbour only", []component{box(134, 100, 28, 40)}, false},
		{"neighbours too small (text across a logo)", []component{box(134, 120, 8, 12), box(146, 120, 8, 12), box(158, 120, 8, 12)}, false},
		{"neighbours too large", []component{box(134, 80, 70, 90), box(210, 80, 70, 90)}, false},
		{"stacked, not side by side", []component{box(100, 144, 30, 40), box(100, 188, 30, 40)}, false},
		{"far apart", []component{box(160, 100, 30, 40), box(220, 100, 30, 40)}, false},
		{"other rows", []component{box(134, 150, 28, 40), box(166, 150, 28, 40)}, false},
		{"a line turned 15°", []component{box(132, 92, 30, 40), box(164, 84, 30, 40)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			comps := append([]component{region}, tc.others...)
			if got := inTextLine(comps, []int32{0}, region.box); got != tc.want {
				t.Errorf("inTextLine = %v, want %v", got, tc.want)
			}
			// Another colour never counts.
			for i := 1; i < len(comps); i++ {
				comps[i].label = 3
			}
			if inTextLine(comps, []int32{0}, region.box) {
				t.Errorf("neighbours of another colour made it text")
			}
		})
	}
	if inTextLine([]component{region}, nil, region.box) {
		t.Error("a region without members (holes) is text")
	}
}
