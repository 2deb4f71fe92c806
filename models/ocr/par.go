package ocr

import (
	"sync"
	"sync/atomic"
)

// forEach calls f(i) for every i in [0, n) on up to par goroutines (the
// caller's among them) and returns when all calls have returned. The
// goroutines it starts are its own: none outlives the call. f must only
// write what belongs to its i.
func forEach(par, n int, f func(i int)) {
	if par <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i)
		}
	}
	var wg sync.WaitGroup
	for range min(par, n) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
