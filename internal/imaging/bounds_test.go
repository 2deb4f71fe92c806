package imaging

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"
	"time"
)

// manyScans returns a JPEG whose scan (SOS segment and entropy-coded data)
// is repeated n times before EOI: what a hostile progressive file looks
// like to the marker walk.
func manyScans(t *testing.T, n int) []byte {
	t.Helper()
	jpg := encodeJPEG(t, marked(64, 64))
	sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
	eoi := bytes.LastIndex(jpg, []byte{0xFF, 0xD9})
	if sos < 0 || eoi < sos {
		t.Fatal("no scan in the encoded JPEG")
	}
	out := append([]byte(nil), jpg[:sos]...)
	for range n {
		out = append(out, jpg[sos:eoi]...)
	}
	return append(out, 0xFF, 0xD9)
}

func TestJPEGScanLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		data  []byte
		scans int
		code  string
	}{
		{"baseline", encodeJPEG(t, marked(64, 64)), 1, ""},
		{"ten scans", manyScans(t, 10), 10, ""},
		{"at the limit", manyScans(t, DefaultMaxJPEGScans), DefaultMaxJPEGScans, ""},
		{"over the limit", manyScans(t, DefaultMaxJPEGScans+1), DefaultMaxJPEGScans + 1, CodeTooComplex},
		{"a thousand scans", manyScans(t, 1000), DefaultMaxJPEGScans + 1, CodeTooComplex},
	}
	for _, tt := range tests {
		if got := jpegScans(tt.data, DefaultMaxJPEGScans); got != tt.scans {
			t.Errorf("%s: counted %d scans, want %d", tt.name, got, tt.scans)
		}
		_, err := Sniff(tt.data, Limits{})
		var e *Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
}

func TestAnimatedWebPIsNamed(t *testing.T) {
	t.Parallel()
	// RIFF header, a VP8X chunk with the animation flag, then an ANIM chunk.
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x0f\x00\x00\x0f\x00\x00ANIM\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	_, err := Sniff(b, Limits{})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeUnsupported || !bytes.Contains([]byte(e.Msg), []byte("animated WebP")) {
		t.Fatalf("animated WebP: %v, want unsupported_media_type naming animation", err)
	}
}

func TestGateBoundsConcurrentDecodes(t *testing.T) {
	t.Parallel()
	png := encodePNG(t, marked(30, 30)) // 900 pixels
	g := NewGate(1000)
	// Another decode holds most of the budget: this one waits, and gives up
	// with its context.
	if err := g.sem.Acquire(context.Background(), 500); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Decode(ctx, png, "", Limits{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("decode over the budget: %v, want it to wait and time out", err)
	}
	g.sem.Release(500)
	im, err := g.Decode(context.Background(), png, "", Limits{})
	if err != nil || im.NRGBA.Rect != image.Rect(0, 0, 30, 30) {
		t.Fatalf("decode within the budget: %v", err)
	}
	// Larger than the whole budget: it runs alone.
	big := encodePNG(t, marked(40, 40))
	if _, err := g.Decode(context.Background(), big, "", Limits{}); err != nil {
		t.Fatalf("decode larger than the budget: %v", err)
	}
	// Header errors come before any waiting.
	if _, err := (*Gate)(nil).Decode(context.Background(), []byte("nope"), "", Limits{}); !IsInputError(err) {
		t.Fatalf("nil gate: %v", err)
	}
}
