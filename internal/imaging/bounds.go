package imaging

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/sync/semaphore"
)

// DefaultMaxJPEGScans bounds the scans of a progressive JPEG. Encoders
// write 1 (baseline) to about 10–12 scans (libjpeg's progressive script has
// 10); Go's decoder re-walks the whole coefficient buffer for every scan and
// has no limit of its own, so a 10 MB file of 1,000 tiny scans costs half a
// minute of CPU. 64 leaves room for unusual encoders.
const DefaultMaxJPEGScans = 64

// CodeTooComplex is the code of an image whose encoding would cost too much
// to decode (a JPEG with too many scans).
const CodeTooComplex = "too_complex"

// jpegScans counts the start-of-scan markers of a JPEG by walking its
// segments and skipping entropy-coded data; it stops early once the count
// exceeds max. It reads no pixels.
func jpegScans(b []byte, max int) int {
	n := 0
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			i++
			continue
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9: // EOI
			return n
		case m >= 0xD0 && m <= 0xD7, m == 0x01: // RSTn, TEM: no length
			i += 2
			continue
		}
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if l < 2 {
			return n
		}
		i += 2 + l
		if m != 0xDA { // not SOS
			continue
		}
		n++
		if n > max {
			return n
		}
		// Entropy-coded data runs to the next marker that is not a stuffed
		// 0xFF00 or a restart marker.
		for i+1 < len(b) {
			if b[i] == 0xFF && b[i+1] != 0x00 && !(b[i+1] >= 0xD0 && b[i+1] <= 0xD7) {
				break
			}
			i++
		}
	}
	return n
}

// webpAnimated reports whether a WebP file is animated (a VP8X header with
// the animation flag, or an ANIM chunk).
func webpAnimated(b []byte) bool {
	if len(b) < 21 {
		return false
	}
	if string(b[12:16]) == "VP8X" && b[20]&0x02 != 0 {
		return true
	}
	for i := 12; i+8 <= len(b); {
		if string(b[i:i+4]) == "ANIM" {
			return true
		}
		size := int(binary.LittleEndian.Uint32(b[i+4:]))
		if size < 0 || size > len(b) {
			return false
		}
		i += 8 + size + size&1
	}
	return false
}

// Gate bounds the memory of decodes that run at once: each decode holds
// width×height pixels of a shared budget (a decoded pixel costs 4 bytes in
// the NRGBA result plus up to as much again in the decoder's own buffer)
// until it returns. A decode larger than the whole budget waits until it
// can run alone. Callers wait in line, in order, and give up when their
// context ends.
type Gate struct {
	sem    *semaphore.Weighted
	budget int64
}

// DefaultDecodeBudget is the default pixel budget of a Gate: 100 megapixels,
// about 0.8 GB of decode buffers at once (four 4500×5400 print files).
const DefaultDecodeBudget = 100_000_000

// NewGate returns a gate with a budget of pixels (<= 0: the default).
func NewGate(budget int64) *Gate {
	if budget <= 0 {
		budget = DefaultDecodeBudget
	}
	return &Gate{sem: semaphore.NewWeighted(budget), budget: budget}
}

// Decode is Decode under the gate: the header is read first (limits
// checked, nothing decoded), then the decode waits for its pixels in the
// budget. A nil gate decodes without waiting.
func (g *Gate) Decode(ctx context.Context, data []byte, declared string, lim Limits) (*Image, error) {
	if g == nil {
		return Decode(data, declared, lim)
	}
	h, err := Sniff(data, lim)
	if err != nil {
		return nil, err
	}
	w := min(int64(h.Width)*int64(h.Height), g.budget)
	if err := g.sem.Acquire(ctx, w); err != nil {
		return nil, fmt.Errorf("imaging: waiting to decode %d×%d: %w", h.Width, h.Height, err)
	}
	defer g.sem.Release(w)
	return Decode(data, declared, lim)
}
