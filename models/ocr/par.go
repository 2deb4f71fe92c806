package ocr

import (
	"sync"
	"sync/atomic"
)

// forEach calls f(i) for every i in [0, n) on up to par goroutines (the
// caller's among them) and returns when all calls have returned. The
// goroutines it starts are its own: none outlives the call. f must only
// write what belongs to its i. A panic in f is raised again on the
// caller's goroutine, where the worker's recovery turns it into a failed
// analysis (on another goroutine it would end the process).
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
	var g group
	for range min(par, n) - 1 {
		g.Go(work)
	}
	// The caller works too; a panic of its own waits for the others.
	func() {
		defer g.recover()
		work()
	}()
	g.Wait()
}

// group is a sync.WaitGroup whose Wait raises again, on the waiting
// goroutine, the first panic of the goroutines it started.
type group struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	panicked any
}

// Go runs f on a new goroutine.
func (g *group) Go(f func()) {
	g.wg.Go(func() {
		defer g.recover()
		f()
	})
}

// recover keeps the first panic; deferred by the group's goroutines.
func (g *group) recover() {
	if r := recover(); r != nil {
		g.mu.Lock()
		if g.panicked == nil {
			g.panicked = r
		}
		g.mu.Unlock()
	}
}

// Wait waits for every goroutine, then panics with the first panic's
// value, if any.
func (g *group) Wait() {
	g.wg.Wait()
	g.mu.Lock()
	r := g.panicked
	g.mu.Unlock()
	if r != nil {
		panic(r)
	}
}
