package bank

import (
	"context"
	"image/color"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
)

// IconJob is one icon to render and prepare as reference Key.
type IconJob struct {
	Key  string
	Icon iconify.Icon
}

// PrepareIcons renders and prepares jobs on up to GOMAXPROCS goroutines
// (preparing a reference hashes 8 dihedral variants × every reference angle
// and is the cost of a bank's first load). out[i] is jobs[i]'s prepared
// reference, nil when the icon does not render or has no shape. It returns
// when every worker has stopped: on ctx's error, with it.
func PrepareIcons(ctx context.Context, m *match.Matcher, jobs []IconJob, bar *Progress) ([]*match.Prepared, error) {
	out := make([]*match.Prepared, len(jobs))
	err := forEach(ctx, len(jobs), func(i int) {
		bar.Add(1)
		img, err := iconify.Render(jobs[i].Icon, RenderSize, color.NRGBA{A: 255})
		if err != nil {
			return
		}
		if p, err := m.Prepare(jobs[i].Key, match.MaskFromAlpha(img), 0); err == nil {
			out[i] = p
		}
	})
	return out, err
}

// forEach calls f(0) … f(n-1) on up to GOMAXPROCS goroutines and returns
// when every one has stopped (with ctx's error if it ended first).
func forEach(ctx context.Context, n int, f func(i int)) error {
	next := make(chan int)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for i := 0; i < n; i++ {
			select {
			case next <- i:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < max(1, min(runtime.GOMAXPROCS(0), n)); w++ {
		g.Go(func() error {
			for i := range next {
				f(i)
			}
			return nil
		})
	}
	return g.Wait()
}
