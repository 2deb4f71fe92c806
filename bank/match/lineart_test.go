package match_test

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
)

// tablerTwitter is tabler's brand-twitter: a path stroked 2 px wide at
// whatever size it is drawn (oksvg does not scale strokes), so drawn at
// 800 px on a 1200² design it is a hairline.
var tablerTwitter = iconify.Icon{Name: "brand-twitter", Width: 24, Height: 24,
	Body: `<path fill="none" stroke="currentColor" stroke-linecap="round" stroke-linejoin="round" stroke-width="2" d="M22 4.01c-1 .49-1.98.689-3 .99c-1.121-1.265-2.783-1.335-4.38-.737S11.977 6.323 12 8v1c-3.245.083-6.135-1.395-8-4c0 0-4.182 7.433 4 11c-1.872 1.247-3.739 2.088-6 2c3.308 1.803 6.913 2.423 10.034 1.517c3.58-1.04 6.522-3.723 7.651-7.742a13.84 13.84 0 0 0 .497-3.753c0-.249 1.51-2.772 1.818-4.013z"/>`}

// A line drawing whose strokes are hairlines on the design (tabler icons at
// 25–70 % of a 1200² design) is found: match-12 found no region with its
// shape at the work size, and its strokes vanished from the template.
func TestHairlineLineArtIsFound(t *testing.T) {
	t.Parallel()
	ref, err := iconify.Render(tablerTwitter, 192, color.NRGBA{A: 255})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{400, 800} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			m, err := match.New(match.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Add("twitter", match.MaskFromAlpha(ref), 0); err != nil {
				t.Fatal(err)
			}
			img := canvas(1200, 1200, solid(color.NRGBA{240, 236, 220, 255}))
			art, err := iconify.Render(tablerTwitter, size, color.NRGBA{30, 40, 90, 255})
			if err != nil {
				t.Fatal(err)
			}
			at := image.Pt(1200-size-60, 1200-size-80)
			draw.Draw(img, art.Rect.Add(at), art, image.Point{}, draw.Over)
			// something in the opposite corner: the design is not trimmed to the icon
			draw.Draw(img, image.Rect(20, 20, 70, 70), image.NewUniform(color.NRGBA{200, 30, 30, 255}), image.Point{}, draw.Src)
			got, _, err := m.Find(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Key != "twitter" {
				e, _ := m.Explain(context.Background(), img, "twitter")
				t.Fatalf("size %d: found %v, want twitter (%+v)", size, got, e)
			}
			if c := got[0].Box.Min.Add(got[0].Box.Size().Div(2)); !c.In(art.Rect.Add(at)) {
				t.Fatalf("size %d: box %v is not the icon's %v", size, got[0].Box, art.Rect.Add(at))
			}
		})
	}
}
