package benigngen

import "testing"

func TestHarmless(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, name string
		want         bool
	}{
		{"game-icons", "caterpillar", true},
		{"tabler", "hexagons-off", true},
		{"tabler", "brand-crunchbase", false}, // a brand's own mark
		{"tabler", "brand-github", false},
		{"tabler", "currency-bitcoin", false}, // a coin mark
		{"game-icons", "pistol-gun", false},   // excluded subject
		{"openmoji", "bikini", false},
	}
	for _, tc := range tests {
		if got := harmless(tc.prefix, tc.name); got != tc.want {
			t.Errorf("harmless(%q, %q) = %v, want %v", tc.prefix, tc.name, got, tc.want)
		}
	}
}
