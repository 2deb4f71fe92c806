package nsfw_test

import (
	"context"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
)

// benchDesign is eval/benchpipeline's design i (same generator: coloured
// discs on a transparent or solid canvas, 1200×1200 PNG/JPEG, a share of
// 4500×5400 PNG print files), decoded as the pipeline decodes it.
func benchDesign(tb testing.TB, i uint64, bigShare float64) *analyzers.Design {
	tb.Helper()
	c := testimages.PipelineDesign(i, bigShare)
	im, err := imaging.Decode(c.Data, c.MediaType, imaging.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	return &analyzers.Design{ID: "bench", Image: im}
}

// BenchmarkAnalyze times the analyzer on bench-pipeline's designs with the
// old tiles and the new ones interleaved design by design (so a change of
// load on a shared machine hits both alike), sessions sized as the
// pipeline sizes them on a 2-CPU machine, and reports both means and
// their ratio:
//
//	go test -run '^$' -bench Analyze -benchtime 40x ./analyzers/nsfw/
func BenchmarkAnalyze(b *testing.B) {
	const n = 20
	designs := make([]*analyzers.Design, n)
	for i := range designs {
		designs[i] = benchDesign(b, uint64(i), 0.1)
	}
	// A print file among them whatever the seed.
	designs[n-1] = benchDesign(b, 7, 1)
	session := models.SessionConfig{Sessions: 2, IntraOpThreads: 1}
	variants := []*nsfw.Analyzer{
		analyzer(b, nsfw.Config{Session: session}.OldTiles()),
		analyzer(b, nsfw.Config{Session: session}),
	}
	for _, a := range variants {
		for i := 0; i < 3; i++ {
			if _, err := a.Analyze(context.Background(), designs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	var took [2]time.Duration
	var tiles, verified int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for v, a := range variants {
			t := time.Now()
			res, err := a.Analyze(context.Background(), designs[i%n])
			took[v] += time.Since(t)
			if err != nil {
				b.Fatal(err)
			}
			if v == 1 {
				data := res.Data.(nsfw.Result)
				tiles += len(data.Tiles)
				for _, t := range data.Tiles {
					if t.Verifier != nil {
						verified++
					}
				}
			}
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(took[0]), "old-ms/design")
	b.ReportMetric(ms(took[1]), "new-ms/design")
	b.ReportMetric(float64(took[1])/float64(took[0]), "new/old")
	b.ReportMetric(float64(tiles)/float64(b.N), "tiles/design")
	b.ReportMetric(float64(verified)/float64(b.N), "verified/design")
}
