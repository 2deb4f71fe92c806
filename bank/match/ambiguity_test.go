package match_test

import (
	"context"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/muster-dev/muster/bank/match"
)

// shapeMask draws in(x, y), coordinates in [0,1]² (y down), on a size×size mask.
func shapeMask(size int, in func(x, y float64) bool) match.Mask {
	m := match.NewMask(size, size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if in((float64(x)+0.5)/float64(size), (float64(y)+0.5)/float64(size)) {
				m.Pix[y*size+x] = 255
			}
		}
	}
	return m
}

// arrow is an upward arrow whose shaft is 2·half wide.
func arrow(half float64) func(x, y float64) bool {
	return func(x, y float64) bool {
		head := y < 0.45 && math.Abs(x-0.5) <= y/0.45*0.5
		shaft := y >= 0.45 && math.Abs(x-0.5) <= half
		return head || shaft
	}
}

// drawDesign draws mask m in near-black at (off, off) on a white size×size canvas.
func drawDesign(size, off int, m match.Mask) *image.NRGBA {
	img := canvas(size, size, solid(color.NRGBA{255, 255, 255, 255}))
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			if m.Pix[y*m.W+x] >= 128 {
				img.SetNRGBA(off+x, off+y, color.NRGBA{20, 20, 20, 255})
			}
		}
	}
	return img
}

func TestAmbiguousRegionsAreNotReported(t *testing.T) {
	t.Parallel()
	img := drawDesign(600, 150, shapeMask(300, arrow(0.15)))
	tests := []struct {
		name      string
		refs      map[string]float64 // key → shaft half-width
		entries   int                // Config.AmbiguousEntries (0: default)
		protected string             // a key Config.Protected names
		want      []string
		ambiguous bool
	}{
		{"one entry", map[string]float64{"a": 0.15}, 0, "", []string{"a"}, false},
		// One region is one mark (match-9): the best of two is reported.
		{"two similar entries", map[string]float64{"a": 0.15, "b": 0.16}, 0, "", []string{"a"}, false},
		{"three similar entries", map[string]float64{"a": 0.15, "b": 0.16, "c": 0.14}, 0, "", nil, true},
		{"three, four allowed", map[string]float64{"a": 0.15, "b": 0.16, "c": 0.14}, 4, "", []string{"a"}, false},
		{"three similar, one protected", map[string]float64{"a": 0.15, "b": 0.16, "c": 0.14}, 0, "b", []string{"b"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := match.New(match.Config{AmbiguousEntries: tc.entries, Protected: func(k string) bool { return k == tc.protected }})
			if err != nil {
				t.Fatal(err)
			}
			for k, half := range tc.refs {
				if err := m.Add(k, shapeMask(192, arrow(half)), 0); err != nil {
					t.Fatal(err)
				}
			}
			got, st, err := m.Find(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, g := range got {
				keys[g.Key] = true
			}
			if len(keys) != len(tc.want) {
				t.Fatalf("found %v, want %v (stats %+v)", got, tc.want, st)
			}
			for _, k := range tc.want {
				if !keys[k] {
					t.Errorf("%s not found: %v", k, got)
				}
			}
			if (st.Ambiguous > 0) != tc.ambiguous {
				t.Errorf("Stats.Ambiguous = %d, want ambiguous %v", st.Ambiguous, tc.ambiguous)
			}
		})
	}
}

func TestGenericReasons(t *testing.T) {
	t.Parallel()
	sparkle := func(x, y float64) bool {
		return math.Pow(math.Abs(x-0.5)/0.5, 0.6)+math.Pow(math.Abs(y-0.5)/0.5, 0.6) <= 1
	}
	disc := func(x, y float64) bool { return math.Hypot(x-0.5, y-0.5) <= 0.5 }
	m, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for k, in := range map[string]func(x, y float64) bool{"arrow": arrow(0.15), "sparkle": sparkle, "disc": disc} {
		if err := m.Add(k, shapeMask(192, in), 0); err != nil {
			t.Fatal(err)
		}
	}
	neg, err := match.New(match.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := neg.Add("icon:arrow-up", shapeMask(160, arrow(0.15)), 0); err != nil {
		t.Fatal(err)
	}
	check := func(stage string, want map[string]string) {
		t.Helper()
		for k, w := range want {
			if got := m.Generic(k); got != w {
				t.Errorf("%s: Generic(%q) = %q, want %q", stage, k, got, w)
			}
		}
	}
	check("no negative bank", map[string]string{"arrow": "", "sparkle": match.GenericLowInformation, "disc": "disc", "unknown": ""})
	m.SetNegative(neg)
	check("negative bank set", map[string]string{"arrow": match.GenericNegative, "sparkle": match.GenericLowInformation})
	if err := m.Add("arrow-2", shapeMask(200, arrow(0.15)), 0); err != nil {
		t.Fatal(err)
	}
	check("added after", map[string]string{"arrow-2": match.GenericNegative})
	m.SetNegative(nil)
	check("negative bank removed", map[string]string{"arrow": "", "arrow-2": ""})

	img := drawDesign(600, 150, shapeMask(300, sparkle))
	if got, _, err := m.Find(context.Background(), img); err != nil || len(got) != 0 {
		t.Errorf("sparkle design: %v, %v; want no match", got, err)
	}
}

func TestProtectedEntriesAreNeverSuppressed(t *testing.T) {
	t.Parallel()
	disc := func(x, y float64) bool { return math.Hypot(x-0.5, y-0.5) <= 0.5 }
	img := drawDesign(600, 150, shapeMask(300, disc))
	for _, protect := range []bool{false, true} {
		m, err := match.New(match.Config{Protected: func(string) bool { return protect }})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Add("symbols/plain-disc", shapeMask(192, disc), 0); err != nil {
			t.Fatal(err)
		}
		neg, err := match.New(match.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := neg.Add("icon:circle", shapeMask(160, disc), 0); err != nil {
			t.Fatal(err)
		}
		m.SetNegative(neg)
		got, _, err := m.Find(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if found := len(got) > 0; found != protect {
			t.Fatalf("protected=%v: found %v; a generic shape the negative bank explains is reported only when protected", protect, got)
		}
	}
}
