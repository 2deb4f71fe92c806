package ocr

import (
	"fmt"
	"testing"
)

// square is a dot-like region of height h centred at (x, y), as regionOf
// makes it from a square component (line as long as the box is high).
func square(x, y, h float64) region {
	return region{line: []pt{{x - h/2, y}, {x + h/2, y}}, half: h / 2, score: 0.8}
}

// word is a line of text of n letters of height h starting at (x, y).
func word(x, y, h float64, n int) region {
	return region{line: []pt{{x, y}, {x + float64(n)*h*0.7, y}}, half: h / 2, score: 0.9}
}

// grid is a halftone ground's dots: cols×rows on a cell, growing from
// small to large across the design (as benigngen's halftone ground).
func grid(cols, rows int, cell float64) []region {
	var out []region
	for j := 0; j < rows; j++ {
		for i := 0; i < cols; i++ {
			t := (float64(i)/float64(cols) + float64(j)/float64(rows)) / 2
			out = append(out, square(cell*(float64(i)+0.5), cell*(float64(j)+0.5), 4+cell*0.5*t))
		}
	}
	return out
}

func TestDropTexture(t *testing.T) {
	t.Parallel()
	lines := []region{word(100, 100, 40, 4), word(100, 200, 40, 8), word(50, 600, 25, 12)}
	tests := []struct {
		name      string
		regs      []region
		wantKept  int
		wantLines bool // the text lines are among those kept
	}{
		{"a slogan alone", lines, 3, true},
		{"letters set apart (a few dot-like regions) are kept", append(grid(10, 5, 40), lines...), 53, true},
		{"99 dots are not a texture yet", append(grid(11, 9, 30), lines...), 102, true},
		{"a halftone ground of 784 dots and a slogan", append(grid(28, 28, 40), lines...), 3, true},
		{"a polka-dot ground of uniform dots", func() []region {
			var out []region
			for j := 0; j < 12; j++ {
				for i := 0; i < 12; i++ {
					out = append(out, square(float64(i)*60+30, float64(j)*60+30, 20))
				}
			}
			return append(out, lines...)
		}(), 3, true},
		{"a big monogram letter on a dot ground is kept", func() []region {
			out := grid(20, 20, 30)
			return append(append(out, square(600, 600, 300)), lines...)
		}(), 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kept, dropped := dropTexture(tt.regs)
			if len(kept) != tt.wantKept || dropped != len(tt.regs)-len(kept) {
				t.Fatalf("kept %d, dropped %d of %d; want %d kept", len(kept), dropped, len(tt.regs), tt.wantKept)
			}
			if tt.wantLines {
				for _, l := range lines {
					found := false
					for _, k := range kept {
						if fmt.Sprint(k) == fmt.Sprint(l) {
							found = true
						}
					}
					if !found {
						t.Errorf("text line %v was dropped", l.line)
					}
				}
			}
		})
	}
}
