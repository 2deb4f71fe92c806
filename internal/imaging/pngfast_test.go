package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// pngFile writes a PNG by hand, so a test chooses what image/png's encoder
// does not: each row's filter, how the data is split into IDAT chunks, and
// extra chunks.
type pngFile struct {
	w, h      int
	colorType byte   // 2 RGB, 6 RGBA
	pix       []byte // w*h*bpp bytes
	filters   []byte // per row (0..4, or anything to test a bad one)
	idatSplit int    // bytes per IDAT chunk (0: one chunk)
	before    [][2]string
	after     [][2]string // chunks between the last IDAT and IEND
	trailing  []byte      // bytes appended to the zlib stream
	interlace byte
	depth     byte
	extraRows int // rows the header declares beyond the data
}

func chunkBytes(typ string, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(body)))
	b.WriteString(typ)
	b.Write(body)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), body...)))
	return b.Bytes()
}

func (f pngFile) encode() []byte {
	bpp := 3
	if f.colorType == 6 {
		bpp = 4
	}
	depth := f.depth
	if depth == 0 {
		depth = 8
	}
	var raw bytes.Buffer
	prev := make([]byte, f.w*bpp)
	for y := 0; y < f.h; y++ {
		row := f.pix[y*f.w*bpp : (y+1)*f.w*bpp]
		ft := f.filters[y]
		raw.WriteByte(ft)
		for i := range row {
			var a, b, c byte
			if i >= bpp {
				a, c = row[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			var pred byte
			switch ft {
			case 1:
				pred = a
			case 2:
				pred = b
			case 3:
				pred = byte((int(a) + int(b)) / 2)
			case 4:
				p := int(a) + int(b) - int(c)
				pa, pb, pc := absInt(p-int(a)), absInt(p-int(b)), absInt(p-int(c))
				switch {
				case pa <= pb && pa <= pc:
					pred = a
				case pb <= pc:
					pred = b
				default:
					pred = c
				}
			}
			raw.WriteByte(row[i] - pred)
		}
		prev = row
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Write(f.trailing)
	zw.Close()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(f.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(f.h+f.extraRows))
	ihdr[8], ihdr[9], ihdr[12] = depth, f.colorType, f.interlace
	out.Write(chunkBytes("IHDR", ihdr))
	for _, c := range f.before {
		out.Write(chunkBytes(c[0], []byte(c[1])))
	}
	zb := z.Bytes()
	split := f.idatSplit
	if split <= 0 {
		split = len(zb)
	}
	for len(zb) > 0 {
		n := min(split, len(zb))
		out.Write(chunkBytes("IDAT", zb[:n]))
		zb = zb[n:]
	}
	for _, c := range f.after {
		out.Write(chunkBytes(c[0], []byte(c[1])))
	}
	out.Write(chunkBytes("IEND", nil))
	return out.Bytes()
}

func randomPNG(rng *rand.Rand, colorType byte) pngFile {
	f := pngFile{w: 1 + rng.IntN(40), h: 1 + rng.IntN(300), colorType: colorType}
	bpp := 3
	if colorType == 6 {
		bpp = 4
	}
	f.pix = make([]byte, f.w*f.h*bpp)
	// Smooth content with noise, so every filter has work to do.
	for i := range f.pix {
		f.pix[i] = uint8(i/7 + rng.IntN(12))
	}
	if colorType == 6 {
		for i := 3; i < len(f.pix); i += 4 {
			switch rng.IntN(3) {
			case 0:
				f.pix[i] = 0xff
			case 1:
				f.pix[i] = uint8(rng.IntN(256))
			}
		}
	}
	f.filters = make([]byte, f.h)
	for y := range f.filters {
		f.filters[y] = byte(rng.IntN(5))
	}
	f.idatSplit = []int{0, 1, 7, 100, 8192}[rng.IntN(5)]
	return f
}

// viaImagePNG is what Decode gave before the fast path: image/png, then
// toNRGBA and opaque.
func viaImagePNG(data []byte) (*image.NRGBA, bool, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false, err
	}
	n := toNRGBA(img)
	return n, opaque(n), nil
}

// TestDecodePNGFastMatchesImagePNG: on PNGs with every filter, RGB and
// RGBA, split into IDAT chunks of many sizes, with ancillary chunks, the
// fast path gives exactly image/png's pixels and opacity; on the PNGs it
// must leave to image/png (bad checksum, bad filter, too much or too little
// data, interlaced, 16-bit, PLTE/tRNS, IDAT after other chunks, truncated)
// it declines, and Decode's answer is image/png's.
func TestDecodePNGFastMatchesImagePNG(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 5))
	for i := 0; i < 200; i++ {
		f := randomPNG(rng, []byte{2, 6}[i%2])
		if i%5 == 0 {
			f.before = [][2]string{{"gAMA", "\x00\x00\xb1\x8f"}, {"tEXt", "Comment\x00x"}}
			f.after = [][2]string{{"tEXt", "a\x00b"}}
		}
		data := f.encode()
		want, wantOpaque, err := viaImagePNG(data)
		if err != nil {
			t.Fatalf("case %d: image/png: %v", i, err)
		}
		got, gotOpaque, ok := decodePNGFast(data)
		if !ok {
			t.Fatalf("case %d (%dx%d type %d split %d): fast path declined a plain PNG", i, f.w, f.h, f.colorType, f.idatSplit)
		}
		if !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect || got.Stride != want.Stride {
			t.Fatalf("case %d (%dx%d type %d): pixels differ from image/png", i, f.w, f.h, f.colorType)
		}
		if gotOpaque != wantOpaque {
			t.Fatalf("case %d: opaque %v, image/png %v", i, gotOpaque, wantOpaque)
		}
	}
	base := func() pngFile { return randomPNG(rand.New(rand.NewPCG(3, 3)), 2) }
	declines := []struct {
		name string
		data func() []byte
	}{
		{"bad filter", func() []byte { f := base(); f.filters[len(f.filters)/2] = 5; return f.encode() }},
		{"too much data", func() []byte { f := base(); f.trailing = []byte{1, 2, 3}; return f.encode() }},
		{"too little data", func() []byte { f := base(); f.extraRows = 1; return f.encode() }},
		{"interlaced", func() []byte { f := base(); f.interlace = 1; return f.encode() }},
		{"16-bit", func() []byte { f := base(); f.depth = 16; return f.encode() }},
		{"tRNS", func() []byte {
			f := base()
			f.before = [][2]string{{"tRNS", "\x00\x01\x00\x02\x00\x03"}}
			return f.encode()
		}},
		{"PLTE", func() []byte { f := base(); f.before = [][2]string{{"PLTE", "\x01\x02\x03"}}; return f.encode() }},
		{"IDAT after other chunks", func() []byte {
			f := base()
			f.after = [][2]string{{"tEXt", "a\x00b"}, {"IDAT", "zz"}}
			return f.encode()
		}},
		{"bad checksum", func() []byte { d := base().encode(); d[len(d)-20] ^= 0x40; return d }},
		{"truncated", func() []byte { d := base().encode(); return d[:len(d)-5] }},
		{"no IEND", func() []byte { d := base().encode(); return d[:len(d)-12] }},
		{"no IDAT", func() []byte {
			d := base().encode()
			return append(d[:33:33], chunkBytes("IEND", nil)...)
		}},
	}
	for _, c := range declines {
		data := c.data()
		if _, _, ok := decodePNGFast(data); ok {
			t.Errorf("%s: fast path accepted it", c.name)
		}
		want, _, wantErr := viaImagePNG(data)
		got, err := Decode(data, "", Limits{})
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: Decode error %v, image/png %v", c.name, err, wantErr)
			continue
		}
		if err == nil && !bytes.Equal(got.NRGBA.Pix, want.Pix) {
			t.Errorf("%s: Decode's pixels differ from image/png's", c.name)
		}
	}
}

// TestDecodePNGFastEncoderOutput: image/png's own encoder at every level
// (it picks filters adaptively except at BestSpeed), opaque and
// translucent, through Decode.
func TestDecodePNGFastEncoderOutput(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	for _, level := range []png.CompressionLevel{png.DefaultCompression, png.NoCompression, png.BestSpeed, png.BestCompression} {
		for _, translucent := range []bool{false, true} {
			img := image.NewNRGBA(image.Rect(0, 0, 333, 71))
			for i := range img.Pix {
				img.Pix[i] = uint8(i/5 + rng.IntN(9))
			}
			for i := 3; i < len(img.Pix); i += 4 {
				img.Pix[i] = 0xff
				if translucent && rng.IntN(4) == 0 {
					img.Pix[i] = uint8(rng.IntN(256))
				}
			}
			var buf bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: level}).Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := decodePNGFast(buf.Bytes()); !ok {
				t.Fatalf("level %d translucent %v: fast path declined", level, translucent)
			}
			got, err := Decode(buf.Bytes(), "", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want, wantOpaque, _ := viaImagePNG(buf.Bytes())
			if !bytes.Equal(got.NRGBA.Pix, want.Pix) || got.HasAlpha == wantOpaque || got.HasAlpha != translucent {
				t.Fatalf("level %d translucent %v: differs from image/png", level, translucent)
			}
		}
	}
}

// TestJPEGHasNoAlpha: a colour and a grayscale JPEG decode opaque
// (HasAlpha false without scanning the pixels).
func TestJPEGHasNoAlpha(t *testing.T) {
	t.Parallel()
	for _, img := range []image.Image{image.NewRGBA(image.Rect(0, 0, 33, 17)), image.NewGray(image.Rect(0, 0, 9, 40))} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		im, err := Decode(buf.Bytes(), "", Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if im.HasAlpha || !opaque(im.NRGBA) {
			t.Errorf("%T: HasAlpha %v, opaque %v", img, im.HasAlpha, opaque(im.NRGBA))
		}
	}
}

// TestDecodePNGFastManyBands: rows wide enough that the image is inflated
// and unfiltered in many bands (about 256 KiB each, more bands than the
// inflater's buffers), every filter, RGB and RGBA: each band's first row
// is unfiltered from the previous band's last (kept when its buffer went
// back), and the pixels are image/png's. An unknown filter in a late band
// is still declined.
func TestDecodePNGFastManyBands(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 8))
	for i, c := range []struct {
		w, h      int
		colorType byte
	}{{2500, 700, 2}, {2501, 333, 6}, {9000, 90, 2}, {6000, 61, 6}} {
		f := randomPNG(rng, c.colorType)
		f.w, f.h = c.w, c.h
		bpp := map[byte]int{2: 3, 6: 4}[c.colorType]
		f.pix = make([]byte, f.w*f.h*bpp)
		for k := range f.pix {
			f.pix[k] = uint8(k/11 + rng.IntN(16))
		}
		if c.colorType == 6 {
			for k := 3; k < len(f.pix); k += 4 {
				f.pix[k] = []byte{0xff, 0xff, uint8(rng.IntN(256))}[rng.IntN(3)]
			}
		}
		f.filters = make([]byte, f.h)
		for y := range f.filters {
			f.filters[y] = byte(rng.IntN(5))
		}
		if band := (256 << 10) / (1 + f.w*bpp); f.h < 5*band {
			t.Fatalf("case %d: %d rows is not many bands of %d", i, f.h, band)
		}
		data := f.encode()
		want, wantOpaque, err := viaImagePNG(data)
		if err != nil {
			t.Fatal(err)
		}
		got, gotOpaque, ok := decodePNGFast(data)
		if !ok {
			t.Fatalf("case %d: fast path declined", i)
		}
		if !bytes.Equal(got.Pix, want.Pix) || gotOpaque != wantOpaque {
			t.Fatalf("case %d (%dx%d type %d): differs from image/png", i, f.w, f.h, f.colorType)
		}
		f.filters[f.h-2] = 7
		if _, _, ok := decodePNGFast(f.encode()); ok {
			t.Errorf("case %d: an unknown filter in the last band accepted", i)
		}
	}
}

// TestRGBToNRGBA: the word-at-a-time expansion gives the byte-at-a-time
// one's pixels for every row length's remainder.
func TestRGBToNRGBA(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 12))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 4500} {
		src := make([]byte, 3*n)
		for i := range src {
			src[i] = uint8(rng.IntN(256))
		}
		want := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			copy(want[4*i:], src[3*i:3*i+3])
			want[4*i+3] = 0xff
		}
		got := make([]byte, 4*n)
		for i := range got {
			got[i] = 0x5a // every byte must be written
		}
		rgbToNRGBA(got, src)
		if !bytes.Equal(got, want) {
			t.Errorf("%d pixels: differs from a byte at a time", n)
		}
	}
}
