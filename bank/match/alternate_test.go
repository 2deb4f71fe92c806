package match_test

import (
	"context"
	"math"
	"testing"

	"github.com/muster-dev/muster/bank/match"
)

// An entry's alternate artwork (another artist's drawing) reports the
// entry; alternates of one entry count as one look-alike; removing the
// entry removes its alternates.
func TestAlternateArtworkReportsItsEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The design shows a ring-less "drawing" — a notched square — while the
	// entry's own artwork is an arrow.
	notched := func(x, y float64) bool {
		return x > 0.1 && x < 0.9 && y > 0.1 && y < 0.9 && !(math.Abs(x-0.5) < 0.12 && y < 0.55) && !(x > 0.65 && y > 0.7)
	}
	img := drawDesign(600, 150, shapeMask(300, notched))
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add("brand", shapeMask(192, arrow(0.15)), 0); err != nil {
		t.Fatal(err)
	}
	got, _, err := m.Find(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("before the alternate: found %v", got)
	}
	for _, alt := range []string{"set-a:brand", "set-b:brand"} {
		if err := m.Add(match.AlternateKey("brand", alt), shapeMask(192, notched), 0); err != nil {
			t.Fatal(err)
		}
	}
	got, st, err := m.Find(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "brand" || st.Ambiguous != 0 {
		t.Fatalf("with two alternates: found %v (ambiguous %d), want the entry once", got, st.Ambiguous)
	}
	if match.EntryOf(match.AlternateKey("brand", "x")) != "brand" || match.EntryOf("brand") != "brand" {
		t.Fatal("EntryOf")
	}
	if !m.Remove("brand") || m.Len() != 0 {
		t.Fatalf("after Remove: %d references left", m.Len())
	}
}

// A logo at 5.5 % of a large design is below the main pass's smallest
// candidate; the detail pass finds it, in the right place.
func TestDetailPassFindsSmallLogos(t *testing.T) {
	t.Parallel()
	notched := func(x, y float64) bool {
		return x > 0.1 && x < 0.9 && y > 0.1 && y < 0.9 && !(math.Abs(x-0.5) < 0.12 && y < 0.55) && !(x > 0.65 && y > 0.7)
	}
	img := drawDesign(2000, 1500, shapeMask(110, notched))
	// something at the opposite corner, so the design is not trimmed to the logo
	for y := 20; y < 60; y++ {
		for x := 20; x < 60; x++ {
			img.Pix[y*img.Stride+x*4] = 0
		}
	}
	for _, tc := range []struct {
		name   string
		detail int
		want   bool
	}{{"no detail pass", -1, false}, {"detail pass", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := match.New(match.Config{DetailSize: tc.detail})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Add("brand", shapeMask(192, notched), 0); err != nil {
				t.Fatal(err)
			}
			got, _, err := m.Find(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			found := len(got) == 1 && got[0].Key == "brand"
			if found != tc.want {
				t.Fatalf("found %v, want found=%v", got, tc.want)
			}
			if found {
				if c := got[0].Box.Min.Add(got[0].Box.Size().Div(2)); c.X < 1500 || c.X > 1610 || c.Y < 1500 || c.Y > 1610 {
					t.Fatalf("box %v is not the logo's", got[0].Box)
				}
			}
		})
	}
}

// Another artist's drawing of an entry whose own artwork is a plain shape
// is not reported by shape alone either: the mark is generic whoever draws
// it.
func TestAlternateOfGenericEntryIsGeneric(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	notched := func(x, y float64) bool {
		return x > 0.1 && x < 0.9 && y > 0.1 && y < 0.9 && !(math.Abs(x-0.5) < 0.12 && y < 0.55) && !(x > 0.65 && y > 0.7)
	}
	img := drawDesign(600, 150, shapeMask(300, notched))
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	disc := func(x, y float64) bool { return math.Hypot(x-0.5, y-0.5) < 0.45 }
	if err := m.Add("plain", shapeMask(192, disc), 0); err != nil {
		t.Fatal(err)
	}
	if m.Generic("plain") == "" {
		t.Fatal("a disc is not generic")
	}
	alt := match.AlternateKey("plain", "set-a:plain")
	if err := m.Add(alt, shapeMask(192, notched), 0); err != nil {
		t.Fatal(err)
	}
	if g := m.Generic(alt); g != m.Generic("plain") {
		t.Fatalf("Generic(alternate) = %q, want the entry's %q", g, m.Generic("plain"))
	}
	got, _, err := m.Find(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("found %v: an alternate of a generic entry was reported", got)
	}
}
