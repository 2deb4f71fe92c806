// Package imaging is Muster's one image decoding path: it checks the byte and
// pixel limits from the header before decoding (decompression bombs), decodes
// PNG, JPEG, GIF and WebP, applies the EXIF orientation and composites alpha.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"sync"

	"golang.org/x/image/webp"
)

// Default limits. They are documented in the README ("Limits").
const (
	// DefaultMaxBytes holds any 8-bit RGBA PNG of a 4500×5400 print file,
	// even one that does not compress (photographic noise: 97.2 MB); at
	// 50 MiB such harmless print files were refused (issue 15).
	DefaultMaxBytes     = 100 << 20  // 100 MiB per upload
	DefaultMaxPixels    = 50_000_000 // 50 megapixels (a 4500×5400 print file is 24.3 MP)
	DefaultMaxDimension = 20_000     // pixels on either side
)

// Limits bound what Decode accepts.
type Limits struct {
	MaxBytes     int64 // largest encoded size
	MaxPixels    int64 // largest width×height, checked from the header
	MaxDimension int   // largest width or height
	MaxJPEGScans int   // most scans of a (progressive) JPEG
}

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxDimension <= 0 {
		l.MaxDimension = DefaultMaxDimension
	}
	if l.MaxJPEGScans <= 0 {
		l.MaxJPEGScans = DefaultMaxJPEGScans
	}
	return l
}

// Error codes carried by *Error; the API maps them to HTTP statuses.
const (
	CodeEmpty          = "empty"
	CodeTooLarge       = "too_large"
	CodeTooManyPixels  = "too_many_pixels"
	CodeUnsupported    = "unsupported_media_type"
	CodeCorrupt        = "corrupt_image"
	CodeMediaMismatch  = "media_type_mismatch"
	CodeZeroDimensions = "zero_dimensions"
)

// Error is a decoding failure caused by the input; callers branch on Code.
type Error struct {
	Code string
	Msg  string
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the decoder's error, if any.
func (e *Error) Unwrap() error { return e.Err }

// IsInputError reports whether err is an *Error (bad input, not a system fault).
func IsInputError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Media types Muster accepts.
const (
	MediaPNG  = "image/png"
	MediaJPEG = "image/jpeg"
	MediaGIF  = "image/gif"
	MediaWebP = "image/webp"
)

// Header is what Sniff learns without decoding pixels.
type Header struct {
	MediaType string
	Width     int
	Height    int
}

// Image is a decoded design, upright (EXIF orientation applied).
type Image struct {
	MediaType string
	// NRGBA holds the upright pixels with their alpha channel (non-premultiplied).
	NRGBA *image.NRGBA
	// HasAlpha is true when any pixel is not fully opaque.
	HasAlpha bool
	// Orientation is the EXIF orientation that was applied (1 = none).
	Orientation int
}

// Width of the upright image.
func (im *Image) Width() int { return im.NRGBA.Rect.Dx() }

// Height of the upright image.
func (im *Image) Height() int { return im.NRGBA.Rect.Dy() }

// Flatten composites the image onto an opaque background colour.
func (im *Image) Flatten(bg color.Color) *image.RGBA {
	b := im.NRGBA.Rect
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(out, out.Rect, im.NRGBA, b.Min, draw.Over)
	return out
}

// Sniff identifies the media type from the magic bytes and reads the
// dimensions from the header, enforcing the limits; it decodes no pixels.
func Sniff(data []byte, lim Limits) (Header, error) {
	lim = lim.WithDefaults()
	if len(data) == 0 {
		return Header{}, &Error{Code: CodeEmpty, Msg: "image is empty"}
	}
	if int64(len(data)) > lim.MaxBytes {
		return Header{}, &Error{Code: CodeTooLarge, Msg: fmt.Sprintf("image is %d bytes, the limit is %d", len(data), lim.MaxBytes)}
	}
	mt := sniffMediaType(data)
	if mt == "" {
		return Header{}, &Error{Code: CodeUnsupported, Msg: "not a PNG, JPEG, GIF or WebP image"}
	}
	if mt == MediaWebP && webpAnimated(data) {
		return Header{}, &Error{Code: CodeUnsupported, Msg: "animated WebP is not supported: upload a still image (PNG, JPEG, WebP) of the design"}
	}
	var cfg image.Config
	var err error
	r := bytes.NewReader(data)
	switch mt {
	case MediaPNG:
		cfg, err = png.DecodeConfig(r)
	case MediaJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case MediaGIF:
		cfg, err = gif.DecodeConfig(r)
	case MediaWebP:
		cfg, err = webp.DecodeConfig(r)
	}
	if err != nil {
		return Header{}, &Error{Code: CodeCorrupt, Msg: "cannot read " + mt + " header", Err: err}
	}
	h := Header{MediaType: mt, Width: cfg.Width, Height: cfg.Height}
	if h.Width <= 0 || h.Height <= 0 {
		return Header{}, &Error{Code: CodeZeroDimensions, Msg: fmt.Sprintf("image has no pixels (%d×%d)", h.Width, h.Height)}
	}
	if h.Width > lim.MaxDimension || h.Height > lim.MaxDimension {
		return Header{}, &Error{Code: CodeTooManyPixels, Msg: fmt.Sprintf("image is %d×%d, the limit is %d pixels on a side", h.Width, h.Height, lim.MaxDimension)}
	}
	if int64(h.Width)*int64(h.Height) > lim.MaxPixels {
		return Header{}, &Error{Code: CodeTooManyPixels, Msg: fmt.Sprintf("image is %d×%d = %d pixels, the limit is %d", h.Width, h.Height, int64(h.Width)*int64(h.Height), lim.MaxPixels)}
	}
	if mt == MediaJPEG {
		if n := jpegScans(data, lim.MaxJPEGScans); n > lim.MaxJPEGScans {
			return Header{}, &Error{Code: CodeTooComplex, Msg: fmt.Sprintf("JPEG has more than %d scans (progressive encoders write about 10); re-save it", lim.MaxJPEGScans)}
		}
	}
	return h, nil
}

// Decode checks the limits from the header, then decodes the image, applies
// the EXIF orientation and reports whether it has transparency. A declared
// media type, if not empty, must match the bytes.
func Decode(data []byte, declared string, lim Limits) (*Image, error) {
	h, err := Sniff(data, lim)
	if err != nil {
		return nil, err
	}
	if declared != "" && declared != "application/octet-stream" && declared != h.MediaType {
		return nil, &Error{Code: CodeMediaMismatch, Msg: fmt.Sprintf("declared media type %s but the bytes are %s", declared, h.MediaType)}
	}
	orient := exifOrientation(h.MediaType, data)
	if h.MediaType == MediaPNG {
		if n, op, ok := decodePNGFast(data); ok {
			n = orientNRGBA(n, orient)
			return &Image{MediaType: h.MediaType, NRGBA: n, HasAlpha: !op, Orientation: orient}, nil
		}
	}
	var img image.Image
	r := bytes.NewReader(data)
	switch h.MediaType {
	case MediaPNG:
		img, err = png.Decode(r)
	case MediaJPEG:
		img, err = jpeg.Decode(r)
	case MediaGIF:
		img, err = gif.Decode(r) // first frame only
	case MediaWebP:
		img, err = webp.Decode(r)
	}
	if err != nil {
		return nil, &Error{Code: CodeCorrupt, Msg: "cannot decode " + h.MediaType, Err: err}
	}
	n := toNRGBA(img)
	n = orientNRGBA(n, orient)
	hasAlpha := false
	switch img.(type) {
	case *image.YCbCr, *image.Gray:
		// A JPEG's pixels have no alpha: no need to scan 4 bytes a pixel.
	default:
		hasAlpha = !opaque(n)
	}
	return &Image{MediaType: h.MediaType, NRGBA: n, HasAlpha: hasAlpha, Orientation: orient}, nil
}

func sniffMediaType(b []byte) string {
	switch {
	case len(b) >= 8 && bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")):
		return MediaPNG
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return MediaJPEG
	case len(b) >= 6 && (bytes.Equal(b[:6], []byte("GIF87a")) || bytes.Equal(b[:6], []byte("GIF89a"))):
		return MediaGIF
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return MediaWebP
	}
	return ""
}

// toNRGBA converts a decoded image to non-premultiplied RGBA at the
// origin. The decoders' usual outputs (RGBA from an opaque PNG, YCbCr from
// a JPEG) are converted row by row with exactly the arithmetic of
// draw.Draw's generic path, which goes through an interface call and a
// bounds check per pixel (over 2 s for a 4500×5400 print file on a loaded
// machine); anything else goes through draw.Draw.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.RGBA:
		rgbaToNRGBA(out, src)
	case *image.YCbCr:
		ycbcrToNRGBA(out, src)
	default:
		draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	}
	return out
}

// rgbaToNRGBA un-premultiplies src into out (same size, out at the
// origin) as image.NRGBA.SetRGBA64 does with RGBA.RGBA64At's values: a
// row is copied, then its translucent pixels are divided by their alpha.
func rgbaToNRGBA(out *image.NRGBA, src *image.RGBA) {
	b := src.Rect
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][: 4*w : 4*w]
		d := out.Pix[y*out.Stride:][: 4*w : 4*w]
		copy(d, s)
		for i := 3; i < len(d); i += 4 {
			a := d[i]
			if a == 0xff || a == 0 {
				continue
			}
			a16 := uint32(a) * 0x101
			d[i-3] = uint8(uint32(d[i-3]) * 0x101 * 0xffff / a16 >> 8)
			d[i-2] = uint8(uint32(d[i-2]) * 0x101 * 0xffff / a16 >> 8)
			d[i-1] = uint8(uint32(d[i-1]) * 0x101 * 0xffff / a16 >> 8)
		}
	}
}

// ycbcrToNRGBA converts src into out (same size, out at the origin) with
// color.YCbCr.RGBA's 16-bit arithmetic (copied below), as draw.Draw does,
// walking each row's luma and chroma samples directly.
func ycbcrToNRGBA(out *image.NRGBA, src *image.YCbCr) {
	b := src.Rect
	hd := 1 // horizontal chroma subsampling
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
		hd = 2
	case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		hd = 4
	}
	// Rows are independent: two bands, one on another goroutine (a JPEG
	// print file's conversion is 24 million pixels).
	mid := b.Min.Y + b.Dy()/2
	var wg sync.WaitGroup
	var panicked any
	wg.Go(func() {
		defer func() { panicked = recover() }()
		ycbcrRows(out, src, hd, b.Min.Y, mid)
	})
	ycbcrRows(out, src, hd, mid, b.Max.Y)
	wg.Wait()
	if panicked != nil {
		panic(panicked) // on the caller's goroutine, where it can be recovered
	}
}

// ycbcrRows converts the rows y0..y1-1 of src into out.
func ycbcrRows(out *image.NRGBA, src *image.YCbCr, hd, y0, y1 int) {
	b := src.Rect
	for y := y0; y < y1; y++ {
		d := out.Pix[(y-b.Min.Y)*out.Stride:]
		yRow := src.Y[src.YOffset(b.Min.X, y):]
		cRow := src.COffset(b.Min.X, y)
		cb, cr := src.Cb[cRow:], src.Cr[cRow:]
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := x/hd - b.Min.X/hd
			yy1 := int32(yRow[x-b.Min.X]) * 0x10101
			cb1 := int32(cb[ci]) - 128
			cr1 := int32(cr[ci]) - 128
			r := yy1 + 91881*cr1
			if uint32(r)&0xff000000 == 0 {
				r >>= 8
			} else {
				r = ^(r >> 31) & 0xffff
			}
			g := yy1 - 22554*cb1 - 46802*cr1
			if uint32(g)&0xff000000 == 0 {
				g >>= 8
			} else {
				g = ^(g >> 31) & 0xffff
			}
			bl := yy1 + 116130*cb1
			if uint32(bl)&0xff000000 == 0 {
				bl >>= 8
			} else {
				bl = ^(bl >> 31) & 0xffff
			}
			i := 4 * (x - b.Min.X)
			d[i], d[i+1], d[i+2], d[i+3] = uint8(uint32(r)>>8), uint8(uint32(g)>>8), uint8(uint32(bl)>>8), 0xff
		}
	}
}

func opaque(n *image.NRGBA) bool {
	for i := 3; i < len(n.Pix); i += 4 {
		if n.Pix[i] != 0xFF {
			return false
		}
	}
	return true
}
