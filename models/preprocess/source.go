package preprocess

import (
	"fmt"
	"image"
	"image/color"
	"runtime"
	"sync"

	"github.com/muster-dev/muster/internal/imaging"
)

// Source is a decoded design as a model reads it: opaque designs as
// decoded, designs with transparency composited onto a background — but
// only the pixels a resize reads, never a full flattened copy (a 4500×5400
// print file's copy is 97 MB and a pass of Porter-Duff arithmetic over it).
// The composite of each pixel is the one imaging.Image.Flatten computes
// (image/draw's "over" of an NRGBA source onto an RGBA background), so
// Whole's tensor is bit-identical to FromImage followed by ResizeBilinear.
type Source struct {
	pix           []uint8
	stride        int
	width, height int
	alpha         bool
	bg            [4]uint32 // the background's bytes as draw fills them
}

// NewSource wraps a decoded design; transparent pixels are composited onto
// bg where they are read.
func NewSource(im *imaging.Image, bg color.Color) Source {
	n := im.NRGBA
	s := Source{pix: n.Pix[n.PixOffset(n.Rect.Min.X, n.Rect.Min.Y):], stride: n.Stride, width: n.Rect.Dx(), height: n.Rect.Dy(), alpha: im.HasAlpha}
	r, g, b, a := bg.RGBA()
	s.bg = [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	return s
}

// Bounds is the design's rectangle, with its origin at 0, 0.
func (s Source) Bounds() image.Rectangle { return image.Rect(0, 0, s.width, s.height) }

// over composites one non-premultiplied pixel onto the background exactly
// as image/draw's drawNRGBAOver does onto the filled background.
func (s Source) over(p []uint8) (r, g, b uint8) {
	const m = 1<<16 - 1
	sa := uint32(p[3]) * 0x101
	a := (m - sa) * 0x101
	r = uint8((s.bg[0]*a/m + uint32(p[0])*sa/0xff) >> 8)
	g = uint8((s.bg[1]*a/m + uint32(p[1])*sa/0xff) >> 8)
	b = uint8((s.bg[2]*a/m + uint32(p[2])*sa/0xff) >> 8)
	return r, g, b
}

// gather returns the composited pixels at the given rows and columns of
// the design as a small opaque raster (row j, column i holds the design's
// pixel at cols[i], rows[j]).
func (s Source) gather(rows, cols []int) Pixels {
	out := Pixels{Pix: make([]uint8, len(rows)*len(cols)*4), Stride: len(cols) * 4, Width: len(cols), Height: len(rows)}
	for j, y := range rows {
		src := s.pix[y*s.stride:]
		dst := out.Pix[j*out.Stride:]
		for i, x := range cols {
			p := src[x*4 : x*4+4 : x*4+4]
			d := dst[i*4 : i*4+4 : i*4+4]
			if !s.alpha {
				d[0], d[1], d[2], d[3] = p[0], p[1], p[2], 255
				continue
			}
			d[0], d[1], d[2] = s.over(p)
			d[3] = 255
		}
	}
	return out
}

// Whole writes the whole design resized to outW×outH exactly as nsfwjs
// does (ResizeBilinear; the same float32 values as FromImage followed by
// ResizeBilinear), compositing only the at most 2·outW × 2·outH pixels the
// bilinear resize reads.
func (s Source) Whole(dst []float32, outW, outH int, alignCorners bool) error {
	if s.width < 1 || s.height < 1 {
		return ErrEmptyRegion
	}
	if len(dst) != outW*outH*3 {
		return fmt.Errorf("resize: dst has %d values, want %d", len(dst), outW*outH*3)
	}
	if !s.alpha {
		return ResizeBilinear(dst, Pixels{Pix: s.pix, Stride: s.stride, Width: s.width, Height: s.height}, s.Bounds(), outW, outH, alignCorners)
	}
	if s.width == outW && s.height == outH {
		return ResizeBilinear(dst, s.gather(seq(s.height), seq(s.width)), image.Rect(0, 0, outW, outH), outW, outH, alignCorners)
	}
	rp := bilinearPlan(s.height, outH, alignCorners)
	cp := bilinearPlan(s.width, outW, alignCorners)
	rows, rowAt := rp.used()
	cols, colAt := cp.used()
	g := s.gather(rows, cols)
	resizeBilinearPlanned(dst, g, rp.remap(rowAt), cp.remap(colAt), outW, outH)
	return nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Opaque returns the design's pixels on the background: as decoded when
// it has no transparency (no copy), else composited pixel by pixel exactly
// as FromImage's Flatten does, with fast paths for fully transparent and
// fully opaque pixels.
func (s Source) Opaque() Pixels {
	if !s.alpha {
		return Pixels{Pix: s.pix, Stride: s.stride, Width: s.width, Height: s.height}
	}
	out := Pixels{Pix: make([]uint8, s.width*s.height*4), Stride: s.width * 4, Width: s.width, Height: s.height}
	bg := [4]uint8{uint8(s.bg[0]), uint8(s.bg[1]), uint8(s.bg[2]), 255}
	for y := 0; y < s.height; y++ {
		src := s.pix[y*s.stride : y*s.stride+s.width*4]
		dst := out.Pix[y*out.Stride : y*out.Stride+s.width*4]
		for i := 0; i < len(src); i += 4 {
			p := src[i : i+4 : i+4]
			d := dst[i : i+4 : i+4]
			switch p[3] {
			case 255:
				d[0], d[1], d[2], d[3] = p[0], p[1], p[2], 255
			case 0:
				d[0], d[1], d[2], d[3] = bg[0], bg[1], bg[2], bg[3]
			default:
				d[0], d[1], d[2] = s.over(p)
				d[3] = 255
			}
		}
	}
	return out
}

// BoxDownscale returns the blocks br (in block coordinates) of the design
// averaged over k×k blocks, the same bytes BoxDownscale(FromImage(…), k)
// has there, without a flattened copy: each pixel is composited as it is
// summed. The result's pixel (0, 0) is block br.Min. k ≤ 1 returns the
// pixels of br.
func (s Source) BoxDownscale(k int, br image.Rectangle) Pixels {
	k = max(1, k)
	br = br.Intersect(image.Rect(0, 0, (s.width+k-1)/k, (s.height+k-1)/k))
	ow, oh := br.Dx(), br.Dy()
	out := Pixels{Pix: make([]uint8, ow*oh*4), Stride: ow * 4, Width: ow, Height: oh}
	// A print file's blocks (24 megapixels read) are averaged in bands on
	// up to GOMAXPROCS goroutines, all waited for here; every block is
	// summed as one goroutine would, so the bytes are the same.
	parts := min(runtime.GOMAXPROCS(0), 4, max(1, ow*oh*k*k/boxBand))
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		wg.Go(func() { s.boxRows(out, br, k, p*oh/parts, (p+1)*oh/parts) })
	}
	s.boxRows(out, br, k, 0, oh/parts)
	wg.Wait()
	return out
}

// boxBand is the source pixels a band of BoxDownscale reads at least.
const boxBand = 4 << 20

// boxRows writes output rows [oy0, oy1) of BoxDownscale.
func (s Source) boxRows(out Pixels, br image.Rectangle, k, oy0, oy1 int) {
	ow := br.Dx()
	sum := make([]uint32, ow*3)
	x0, x1 := br.Min.X*k, min(s.width, br.Max.X*k)
	for oy := oy0; oy < oy1; oy++ {
		clear(sum)
		y0, y1 := (br.Min.Y+oy)*k, min(s.height, (br.Min.Y+oy)*k+k)
		for y := y0; y < y1; y++ {
			s.rowSums(sum, x0, y, x1-x0, k)
		}
		for ox := 0; ox < ow; ox++ {
			bx := (br.Min.X + ox) * k
			n := uint32((y1 - y0) * (min(s.width, bx+k) - bx))
			o := oy*out.Stride + ox*4
			out.Pix[o] = uint8((sum[ox*3] + n/2) / n)
			out.Pix[o+1] = uint8((sum[ox*3+1] + n/2) / n)
			out.Pix[o+2] = uint8((sum[ox*3+2] + n/2) / n)
			out.Pix[o+3] = 255
		}
	}
}

// rowSums adds the composited pixels x0..x0+n of row y to sums, k pixels
// per entry.
func (s Source) rowSums(sums []uint32, x0, y, n, k int) {
	src := s.pix[y*s.stride+x0*4 : y*s.stride+(x0+n)*4]
	bg := s.bg
	for bx := 0; bx*k < n; bx++ {
		var r, g, b uint32
		blk := src[bx*k*4 : min(n, bx*k+k)*4]
		if !s.alpha {
			for p := 0; p+3 < len(blk); p += 4 {
				r += uint32(blk[p])
				g += uint32(blk[p+1])
				b += uint32(blk[p+2])
			}
		} else {
			for p := 0; p+3 < len(blk); p += 4 {
				switch blk[p+3] {
				case 255:
					r += uint32(blk[p])
					g += uint32(blk[p+1])
					b += uint32(blk[p+2])
				case 0:
					r += bg[0]
					g += bg[1]
					b += bg[2]
				default:
					cr, cg, cb := s.over(blk[p : p+4])
					r += uint32(cr)
					g += uint32(cg)
					b += uint32(cb)
				}
			}
		}
		o := sums[bx*3 : bx*3+3 : bx*3+3]
		o[0] += r
		o[1] += g
		o[2] += b
	}
}
