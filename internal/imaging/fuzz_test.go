package imaging

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoding path: it must never panic,
// must return either an image within the limits or an *Error, and never
// allocate for more pixels than the limit allows.
func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, marked(8, 8)))
	f.Add(encodeJPEG(f, marked(8, 8)))
	f.Add(withEXIFOrientation(encodeJPEG(f, marked(8, 4)), 6))
	f.Add(pngHeader(100000, 100000))
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxDimension: 4096}
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := Decode(data, "", lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not *Error: %v", err)
			}
			return
		}
		if int64(im.Width())*int64(im.Height()) > lim.MaxPixels {
			t.Fatalf("decoded %dx%d beyond the limit", im.Width(), im.Height())
		}
	})
}

// parseCorpus decodes the single []byte value of a Go fuzz corpus file.
func parseCorpus(file []byte) ([]byte, error) {
	_, rest, ok := bytes.Cut(file, []byte("\n"))
	if !ok {
		return nil, errors.New("corpus: no header")
	}
	rest = bytes.TrimSpace(rest)
	rest = bytes.TrimPrefix(rest, []byte("[]byte("))
	rest = bytes.TrimSuffix(rest, []byte(")"))
	s, err := strconv.Unquote(string(rest))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}
