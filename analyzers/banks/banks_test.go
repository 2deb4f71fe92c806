package banks_test

import (
	"context"
	"image"
	"testing"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestMissingBanksAreReported: an empty or absent bank is a missing signal
// the analyzer reports (the policy then holds the design for review), never
// a silent "found nothing".
func TestMissingBanksAreReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		seedSymbols bool
		want        []string
	}{
		{"no banks at all", false, []string{"no active symbol bank entries loaded", "no active trademark bank entries loaded"}},
		{"symbols only", true, []string{"no active trademark bank entries loaded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := bank.NewStore(pgtest.New(t), nil)
			if tc.seedSymbols {
				if _, err := bank.SeedSymbols(ctx, st, match.Config{}, "test", nil); err != nil {
					t.Fatal(err)
				}
			}
			set, err := bank.NewSet(st, bank.SetConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if err := set.Load(ctx); err != nil {
				t.Fatal(err)
			}
			img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
			for i := range img.Pix {
				img.Pix[i] = 255
			}
			res, err := banks.New(set, banks.Config{}).Analyze(ctx, &analyzers.Design{Image: &imaging.Image{NRGBA: img}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if f.Type == mustertype.FindingIncomplete {
					got = append(got, f.Label)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("incomplete findings %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("incomplete findings %v, want %v", got, tc.want)
				}
			}
		})
	}
}
