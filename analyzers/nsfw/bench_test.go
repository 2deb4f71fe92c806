package nsfw_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
)

// benchDesign is eval/benchpipeline's design i (same generator: coloured
// discs on a transparent or solid canvas, 1200×1200 PNG/JPEG, a share of
// 4500×5400 PNG print files), decoded as the pipeline decodes it.
func benchDesign(tb testing.TB, i uint64, bigShare float64) *analyzers.Design {
	tb.Helper()
	r := rand.New(rand.NewPCG(i, 42))
	big := r.Float64() < bigShare
	w, h := 1200, 1200
	if big {
		w, h = 4500, 5400
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if !big && r.IntN(2) == 0 {
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	}
	for k := 0; k < 6; k++ {
		cx, cy := r.IntN(w), r.IntN(h)
		rad := w/10 + r.IntN(w/5)
		c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		for y := max(0, cy-rad); y < min(h, cy+rad); y++ {
			for x := max(0, cx-rad); x < min(w, cx+rad); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
					o := img.PixOffset(x, y)
					img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R+uint8(x%7), c.G+uint8(y%5), c.B, c.A
				}
			}
		}
	}
	var buf bytes.Buffer
	mt := imaging.MediaPNG
	if !big && r.IntN(2) == 0 {
		mt = imaging.MediaJPEG
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70 + r.IntN(26)})
	} else {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		_ = enc.Encode(&buf, img)
	}
	im, err := imaging.Decode(buf.Bytes(), mt, imaging.Limits{})
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
