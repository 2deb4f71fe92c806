package evaltext

import (
	"math/rand/v2"
	"testing"
)

func TestFontPool(t *testing.T) {
	t.Parallel()
	// One family of twelve weights and one of a single script face.
	var files []string
	for _, w := range []string{"Thin", "Light", "Book", "Regular", "Medium", "SemiBold", "Bold", "ExtraBold", "Black", "Heavy", "Italic", "BoldItalic"} {
		files = append(files, "/usr/share/fonts/truetype/grotesk/Grotesk-"+w+".ttf")
	}
	files = append(files, "/usr/share/fonts/opentype/script/Script-Regular.otf")
	tests := []struct {
		set string
		// script is the share of draws the one-file family gets.
		lo, hi float64
	}{
		{"dev", 0.04, 0.12},  // every file alike: 1 in 13
		{"test", 0.04, 0.12}, // as development
		{"val", 0.45, 0.55},  // every family alike: 1 in 2
	}
	for _, tc := range tests {
		t.Run(tc.set, func(t *testing.T) {
			t.Parallel()
			p := newFontPool(tc.set, files)
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 20000
			script := 0
			for range n {
				if p.draw(rng) == files[len(files)-1] {
					script++
				}
			}
			if s := float64(script) / n; s < tc.lo || s > tc.hi {
				t.Errorf("%s: the one-file family drawn %.3f of the time, want %.2f..%.2f", tc.set, s, tc.lo, tc.hi)
			}
		})
	}
}

func TestDevAndTestDrawsUnchanged(t *testing.T) {
	t.Parallel()
	// Development and test designs draw one file with one rng call, as
	// before validation fonts existed: the same seed makes the same designs.
	files := []string{"/a/x/1.ttf", "/a/x/2.ttf", "/a/y/3.ttf"}
	for _, set := range []string{"dev", "test"} {
		p := newFontPool(set, files)
		r1, r2 := rand.New(rand.NewPCG(7, 9)), rand.New(rand.NewPCG(7, 9))
		for i := range 50 {
			if got, want := p.draw(r1), files[r2.IntN(len(files))]; got != want {
				t.Fatalf("%s draw %d: %s, want %s", set, i, got, want)
			}
		}
	}
}
