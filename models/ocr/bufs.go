package ocr

import "sync"

// floatBufs is an engine's pool of large float32 buffers: detection's
// resampled image and its input tensor (53 MB each for a print file's
// high-resolution pass, 11 MB for a design), reused from one Read to the
// next instead of allocated, zeroed and faulted in afresh each time. It
// belongs to one Engine (no package-level state); the garbage collector
// may empty it (sync.Pool), so it holds no memory an idle engine needs.
// A nil *floatBufs allocates every buffer.
type floatBufs struct{ p sync.Pool }

// get returns n values: zeroed when zero is set, otherwise arbitrary (the
// caller writes every one).
func (b *floatBufs) get(n int, zero bool) []float32 {
	if b != nil {
		if v, ok := b.p.Get().(*[]float32); ok && cap(*v) >= n {
			s := (*v)[:n]
			if zero {
				clear(s)
			}
			return s
		}
		// A smaller buffer is dropped: the next design is likely this size.
	}
	return make([]float32, n)
}

// put gives a buffer back; the caller no longer uses it.
func (b *floatBufs) put(s []float32) {
	if b != nil && cap(s) > 0 {
		b.p.Put(&s)
	}
}
