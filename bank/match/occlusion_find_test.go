package match_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/muster-dev/muster/bank/iconify"
)

// TestTextAcrossTheEdge: a line of merchant text that runs across a
// logo's edge bites into its silhouette; the logo is found (match-11,
// completeRuns: match-10 scored vk's best region 0.815 with the text a
// quarter of the way down).
func TestTextAcrossTheEdge(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		logo string
		at   int // the text's baseline, percent of the logo's height
	}{
		{"vk", 25},
		{"vk", 50},
		{"coreboot", 50},
		{"gofundme", 50},
	}
	for _, tc := range tests {
		t.Run(tc.logo, func(t *testing.T) {
			t.Parallel()
			c := canvas(1200, 1200, solid(color.NRGBA{250, 250, 245, 255}))
			logo, err := iconify.RenderRotated(f.icons[tc.logo], 400, color.NRGBA{20, 40, 160, 255}, 0)
			if err != nil {
				t.Fatal(err)
			}
			at := image.Pt(300, 300)
			draw.Draw(c, logo.Rect.Add(at), logo, image.Point{}, draw.Over)
			b := alphaBox(logo).Add(at)
			drawText(t, c, "SUMMER SALE", float64(b.Dy())*0.18, b.Min.X-150, b.Min.Y+b.Dy()*tc.at/100, color.NRGBA{230, 120, 20, 255})
			got, _, err := f.m.Find(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range got {
				if m.Key == tc.logo && m.Box.Overlaps(b) {
					found = true
				} else {
					t.Errorf("unexpected %s at %v (%.3f)", m.Key, m.Box, m.Score)
				}
			}
			if !found {
				t.Errorf("%s not found; got %+v", tc.logo, got)
			}
		})
	}
}
