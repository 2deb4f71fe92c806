package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// decodePNGFast decodes the PNG a design usually is — 8-bit RGB or RGBA,
// not interlaced, no tRNS or PLTE chunk — straight into NRGBA, on two
// goroutines: one inflates the image data (klauspost/compress's zlib,
// faster than compress/zlib) and unfilters the rows, the other (the
// caller's) allocates the image and writes the rows as NRGBA, noting
// whether every pixel is opaque. Go's
// image/png does both in one goroutine, returns RGB as an RGBA image that
// toNRGBA then copies, and opaque scans it again: for a 4500×5400 print
// file that is most of the time outside ONNX Runtime.
//
// ok is false for any other PNG and for anything unusual (a bad checksum,
// a trailing or missing byte, an unknown filter, chunks out of order): the
// caller then decodes with image/png, which gives the same pixels or the
// error. So this path never accepts a file image/png rejects, and never
// gives other pixels (TestDecodePNGFastMatchesImagePNG).
func decodePNGFast(data []byte) (img *image.NRGBA, isOpaque, ok bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < len(sig) || string(data[:len(sig)]) != sig {
		return nil, false, false
	}
	var (
		w, h, bpp int
		idat      [][]byte
		idatRun   = 0 // 0: none yet, 1: in the first run of IDAT chunks, 2: after it
		seenIEND  bool
	)
	pos := len(sig)
	for first := true; !seenIEND; first = false {
		if len(data)-pos < 12 {
			return nil, false, false
		}
		length := binary.BigEndian.Uint32(data[pos:])
		if length > 0x7fffffff || int64(len(data)-pos-12) < int64(length) {
			return nil, false, false
		}
		n := int(length)
		typ := string(data[pos+4 : pos+8])
		body := data[pos+8 : pos+8+n]
		if crc32.ChecksumIEEE(data[pos+4:pos+8+n]) != binary.BigEndian.Uint32(data[pos+8+n:]) {
			return nil, false, false
		}
		pos += 12 + n
		if first != (typ == "IHDR") {
			return nil, false, false
		}
		if typ != "IDAT" && idatRun == 1 {
			idatRun = 2
		}
		switch typ {
		case "IHDR":
			if n != 13 || body[8] != 8 || body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return nil, false, false
			}
			w, h = int(int32(binary.BigEndian.Uint32(body[0:]))), int(int32(binary.BigEndian.Uint32(body[4:])))
			switch body[9] {
			case 2:
				bpp = 3
			case 6:
				bpp = 4
			default:
				return nil, false, false
			}
			if w <= 0 || h <= 0 || int64(w)*int64(h) > 1<<31 {
				return nil, false, false
			}
		case "IDAT":
			if idatRun == 2 {
				// image/png ignores IDAT chunks after the data; this path
				// leaves such files to it.
				return nil, false, false
			}
			idatRun = 1
			idat = append(idat, body)
		case "IEND":
			if idatRun == 0 || n != 0 {
				return nil, false, false
			}
			seenIEND = true
		case "PLTE", "tRNS":
			return nil, false, false
		}
	}
	z := idat[0]
	if len(idat) > 1 {
		z = bytes.Join(idat, nil)
	}
	src := bytes.NewReader(z)
	zr, err := zlib.NewReader(src)
	if err != nil {
		return nil, false, false
	}
	defer zr.Close()

	rowSize := 1 + w*bpp
	band := max(1, min(h, (256<<10)/rowSize)) // rows per hand-over (about 256 KiB)
	type chunk struct {
		buf  []byte
		rows int
	}
	// The inflater runs up to bands ahead of the caller: while the caller
	// allocates the image (97 MB for a print file, zeroed), it inflates and
	// unfilters the first rows.
	const bands = 4
	full := make(chan chunk, bands-1)
	free := make(chan []byte, bands)
	for range bands {
		free <- make([]byte, band*rowSize)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var inflateOK bool // written by the inflater before it closes full
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		// A panic in the inflater (a decoder bug on a crafted file) leaves
		// inflateOK false: the file goes to image/png, on the caller's
		// goroutine, instead of ending the process.
		defer func() { _ = recover() }()
		// The inflater also unfilters (the caller's goroutine has the image
		// to allocate and every pixel to write): each row in place, from
		// the row above, which is kept when its band's buffer is handed
		// over (the caller reuses the buffer).
		prev := make([]byte, rowSize)  // zeros above the first row
		carry := make([]byte, rowSize) // a band's last row, once its buffer is handed over
		for y := 0; y < h; y += band {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			rows := min(band, h-y)
			if _, err := io.ReadFull(zr, buf[:rows*rowSize]); err != nil {
				return
			}
			for r := 0; r < rows; r++ {
				cr := buf[r*rowSize : (r+1)*rowSize]
				if !unfilter(cr[0], cr[1:], prev[1:], bpp) {
					return // an unknown filter: the caller sees too few rows
				}
				prev = cr
			}
			copy(carry, prev)
			prev = carry
			select {
			case full <- chunk{buf, rows}:
			case <-stop:
				return
			}
		}
		// The stream must end here (image/png: "too much pixel data"), its
		// checksum verified, and it must fill its IDAT chunks exactly.
		var one [1]byte
		if n, err := io.ReadFull(zr, one[:]); n != 0 || err != io.EOF || src.Len() != 0 {
			return
		}
		inflateOK = true
	}()
	defer wg.Wait()
	defer close(stop)

	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	alpha := uint8(0xff)
	y := 0
	for c := range full {
		for r := 0; r < c.rows; r++ {
			cr := c.buf[r*rowSize+1 : (r+1)*rowSize]
			dst := out.Pix[y*out.Stride : y*out.Stride+4*w]
			if bpp == 4 {
				copy(dst, cr)
				alpha &= andAlpha(dst)
			} else {
				rgbToNRGBA(dst, cr)
			}
			y++
		}
		free <- c.buf
	}
	if y != h {
		return nil, false, false
	}
	wg.Wait() // inflateOK is written before full is closed; Wait orders it for the race detector too
	if !inflateOK {
		return nil, false, false
	}
	return out, alpha == 0xff, true
}

// unfilter reverses a row's PNG filter in place (cdat: this row, pdat: the
// row above, unfiltered). The arithmetic is image/png's (Copyright 2009 The
// Go Authors, BSD-style licence). It reports false for an unknown filter.
func unfilter(ft byte, cdat, pdat []byte, bpp int) bool {
	switch ft {
	case 0:
	case 1:
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += cdat[i-bpp]
		}
	case 2:
		pdat = pdat[:len(cdat)]
		for i, p := range pdat {
			cdat[i] += p
		}
	case 3:
		pdat = pdat[:len(cdat)]
		for i := 0; i < bpp; i++ {
			cdat[i] += pdat[i] / 2
		}
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += uint8((int(cdat[i-bpp]) + int(pdat[i])) / 2)
		}
	case 4:
		filterPaeth(cdat, pdat, bpp)
	default:
		return false
	}
	return true
}

// filterPaeth reverses the Paeth filter (image/png's optimised version).
func filterPaeth(cdat, pdat []byte, bpp int) {
	var a, b, c, pa, pb, pc int
	pdat = pdat[:len(cdat)]
	for i := 0; i < bpp; i++ {
		a, c = 0, 0
		for j := i; j < len(cdat); j += bpp {
			b = int(pdat[j])
			pa = b - c
			pb = a - c
			pc = absInt(pa + pb)
			pa = absInt(pa)
			pb = absInt(pb)
			if pa <= pb && pa <= pc {
				// a stays
			} else if pb <= pc {
				a = b
			} else {
				a = c
			}
			a += int(cdat[j])
			a &= 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

func absInt(x int) int {
	m := x >> (strconv.IntSize - 1)
	return (x ^ m) - m
}

// rgbToNRGBA expands a row of RGB bytes to opaque NRGBA: four pixels (12
// bytes in, 16 out) a step as two 64-bit words, the rest a byte at a time.
func rgbToNRGBA(dst, src []byte) {
	n := len(dst) / 4
	src = src[:3*n]
	dst = dst[:4*n]
	const alphas = 0xff000000_ff000000 // two pixels' alpha bytes, little-endian
	i := 0
	for ; i+4 <= n; i += 4 {
		s := src[3*i : 3*i+12 : 3*i+12]
		lo := binary.LittleEndian.Uint64(s)             // r0 g0 b0 r1 g1 b1 r2 g2
		hi := uint64(binary.LittleEndian.Uint32(s[8:])) // b2 r3 g3 b3
		d := dst[4*i : 4*i+16 : 4*i+16]
		binary.LittleEndian.PutUint64(d, lo&0xffffff|(lo>>24&0xffffff)<<32|alphas)
		binary.LittleEndian.PutUint64(d[8:], lo>>48|(hi&0xff)<<16|(hi>>8)<<32|alphas)
	}
	for ; i < n; i++ {
		s := src[3*i : 3*i+3 : 3*i+3]
		d := dst[4*i : 4*i+4 : 4*i+4]
		d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 0xff
	}
}

// andAlpha is the bitwise AND of a row of NRGBA pixels' alpha bytes
// (0xff when every pixel is opaque).
func andAlpha(row []byte) uint8 {
	a := uint8(0xff)
	for i := 3; i < len(row); i += 4 {
		a &= row[i]
	}
	return a
}
