package preprocess

import (
	"fmt"
	"image"
)

// AreaTiles area-resizes regions of one source to outW×outH exactly as
// ResizeArea does, value for value, and shares work between regions that
// lie in the same columns: a source row's horizontal pass over the same
// columns is the same whichever region reads it, so the rows shared by
// vertically overlapping regions (a column of tiles overlapping by half)
// are resized once. Regions given column by column, top to bottom, share
// the most; any order gives the same values. The zero value is not
// usable; an AreaTiles is not safe for concurrent use. Release returns
// its buffer.
type AreaTiles struct {
	src        Pixels
	outW, outH int
	x0, dx     int // the columns of the rows held
	lo, hi     int // source rows [lo, hi) are held; row y in slot y % slots
	slots      int
	buf        *[]float64
}

// NewAreaTiles returns an AreaTiles reading src.
func NewAreaTiles(src Pixels, outW, outH int) *AreaTiles {
	return &AreaTiles{src: src, outW: outW, outH: outH, dx: -1}
}

// Resize writes region r of the source, scaled to 0..1 and area-resized to
// outW×outH, as float32 NHWC RGB into dst: the same values as
// ResizeArea(dst, src, r, outW, outH).
func (t *AreaTiles) Resize(dst []float32, r image.Rectangle) error {
	r = r.Intersect(image.Rect(0, 0, t.src.Width, t.src.Height))
	if r.Empty() || t.outW < 1 || t.outH < 1 {
		return ErrEmptyRegion
	}
	if len(dst) != t.outW*t.outH*3 {
		return fmt.Errorf("preprocess: dst has %d values, want %d", len(dst), t.outW*t.outH*3)
	}
	xs := planArea(r.Dx(), t.outW)
	ys := planArea(r.Dy(), t.outH)
	n := t.outW * 3
	if r.Dy() > t.slots {
		if t.buf != nil {
			rowsPool.Put(t.buf)
		}
		need := r.Dy() * n
		bp, _ := rowsPool.Get().(*[]float64)
		if bp == nil || cap(*bp) < need {
			b := make([]float64, need)
			bp = &b
		}
		*bp = (*bp)[:need]
		t.buf, t.slots, t.dx = bp, r.Dy(), -1
	}
	if r.Min.X != t.x0 || r.Dx() != t.dx || r.Min.Y < t.lo || r.Min.Y > t.hi {
		// Other columns, or not adjacent to the rows held: start afresh.
		t.x0, t.dx, t.lo, t.hi = r.Min.X, r.Dx(), r.Min.Y, r.Min.Y
	}
	rows := *t.buf
	slot := func(y int) []float64 {
		s := y % t.slots
		return rows[s*n : (s+1)*n : (s+1)*n]
	}
	// Rows below those held; each overwrites a row above r.Min.Y (the
	// region is at most t.slots high).
	for y := t.hi; y < r.Max.Y; y++ {
		so := y*t.src.Stride + r.Min.X*4
		areaRow(slot(y), t.src.Pix[so:so+r.Dx()*4], xs)
	}
	t.hi = max(t.hi, r.Max.Y)
	t.lo = max(t.lo, t.hi-t.slots)
	areaColumns(dst, func(i int) []float64 { return slot(r.Min.Y + i) }, ys, t.outW, t.outH)
	return nil
}

// Release returns the row buffer for reuse; t must not be used after.
func (t *AreaTiles) Release() {
	if t.buf != nil {
		rowsPool.Put(t.buf)
		t.buf = nil
	}
}
