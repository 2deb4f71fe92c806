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
