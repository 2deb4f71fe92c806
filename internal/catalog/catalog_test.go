package catalog

import (
	"slices"
	"testing"
)

func TestISOListSorted(t *testing.T) {
	t.Parallel()
	if !slices.IsSorted(iso3166[:]) {
		t.Fatal("iso3166 must be sorted for binary search")
	}
}

func TestParseMarkets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"DE,US,FR", []string{"DE", "US", "FR"}, false},
		{" de , eu,DE", []string{"DE", "EU"}, false},
		{"XX", nil, true},
		{"", nil, true},
		{"UK", nil, true}, // GB is the code
	}
	for _, tt := range tests {
		got, err := ParseMarkets(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParseMarkets(%q) err = %v", tt.in, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Fatalf("ParseMarkets(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
