package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// marked returns a w×h image, white with a red top-left pixel block.
func marked(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < h/4; y++ {
		for x := 0; x < w/4; x++ {
			img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	return img
}

// withEXIFOrientation inserts an APP1 Exif segment with the orientation tag.
func withEXIFOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8))
	binary.Write(&tiff, binary.BigEndian, uint16(1))
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112))
	binary.Write(&tiff, binary.BigEndian, uint16(3))
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, o)
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

// pngHeader forges a PNG whose IHDR claims w×h, with no pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.WriteString("IHDR")
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	good := encodePNG(t, marked(64, 48))
	tests := []struct {
		name     string
		data     []byte
		declared string
		lim      Limits
		code     string
	}{
		{"empty", nil, "", Limits{}, CodeEmpty},
		{"not an image", []byte("hello, this is text"), "", Limits{}, CodeUnsupported},
		{"truncated png", good[:len(good)/2], "", Limits{}, CodeCorrupt},
		{"truncated header", good[:20], "", Limits{}, CodeCorrupt},
		{"too many bytes", good, "", Limits{MaxBytes: 100}, CodeTooLarge},
		{"too many pixels", good, "", Limits{MaxPixels: 1000}, CodeTooManyPixels},
		{"decompression bomb header", pngHeader(100000, 100000), "", Limits{}, CodeTooManyPixels},
		{"too wide", pngHeader(30000, 10), "", Limits{}, CodeTooManyPixels},
		{"zero size", pngHeader(0, 10), "", Limits{}, CodeCorrupt}, // the PNG decoder rejects it first,
		{"declared jpeg but png", good, MediaJPEG, Limits{}, CodeMediaMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(tt.data, tt.declared, tt.lim)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode err = %v, want *Error", err)
			}
			if e.Code != tt.code {
				t.Fatalf("code = %s (%v), want %s", e.Code, err, tt.code)
			}
		})
	}
}

func TestDecodeFormats(t *testing.T) {
	t.Parallel()
	src := marked(40, 30)
	var gb bytes.Buffer
	if err := gif.Encode(&gb, src, nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecode", "webp-lossless"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		mediaType string
		w, h      int
	}{
		{"png", encodePNG(t, src), MediaPNG, 40, 30},
		{"jpeg", encodeJPEG(t, src), MediaJPEG, 40, 30},
		{"gif", gb.Bytes(), MediaGIF, 40, 30},
		{"webp", corpusBytes(t, webp), MediaWebP, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			im, err := Decode(tt.data, "", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if im.MediaType != tt.mediaType {
				t.Fatalf("media type %s, want %s", im.MediaType, tt.mediaType)
			}
			if tt.w != 0 && (im.Width() != tt.w || im.Height() != tt.h) {
				t.Fatalf("size %dx%d, want %dx%d", im.Width(), im.Height(), tt.w, tt.h)
			}
		})
	}
}

func TestEXIFOrientation(t *testing.T) {
	t.Parallel()
	src := marked(80, 40) // red block top-left
	jpg := encodeJPEG(t, src)
	tests := []struct {
		o          uint16
		w, h       int
		redX, redY int // where the red block's corner ends up
	}{
		{1, 80, 40, 2, 2},
		{3, 80, 40, 77, 37},
		{6, 40, 80, 37, 2}, // rotate 90° clockwise: top-left goes top-right
		{8, 40, 80, 2, 77}, // rotate 270°: top-left goes bottom-left
		{2, 80, 40, 77, 2}, // mirror
	}
	for _, tt := range tests {
		im, err := Decode(withEXIFOrientation(jpg, tt.o), "", Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if im.Orientation != int(tt.o) {
			t.Fatalf("orientation %d, want %d", im.Orientation, tt.o)
		}
		if im.Width() != tt.w || im.Height() != tt.h {
			t.Fatalf("o=%d: size %dx%d, want %dx%d", tt.o, im.Width(), im.Height(), tt.w, tt.h)
		}
		c := im.NRGBA.NRGBAAt(tt.redX, tt.redY)
		if c.R < 200 || c.G > 60 {
			t.Fatalf("o=%d: pixel (%d,%d) = %v, want red", tt.o, tt.redX, tt.redY, c)
		}
	}
}

func TestAlphaFlatten(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // fully transparent
	img.SetNRGBA(1, 1, color.NRGBA{0, 0, 0, 255})
	im, err := Decode(encodePNG(t, img), MediaPNG, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !im.HasAlpha {
		t.Fatal("HasAlpha = false for a transparent PNG")
	}
	flat := im.Flatten(color.White)
	if got := flat.RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Fatalf("transparent pixel flattened to %v, want white", got)
	}
	if got := flat.RGBAAt(1, 1); got != (color.RGBA{0, 0, 0, 255}) {
		t.Fatalf("opaque pixel flattened to %v, want black", got)
	}
}

// corpusBytes reads a Go fuzz corpus file ("go test fuzz v1\n[]byte(...)").
func corpusBytes(t testing.TB, file []byte) []byte {
	t.Helper()
	b, err := parseCorpus(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
