package imaging_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/muster-dev/muster/internal/imaging"
)

func ExampleDecode() {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 300, 200)))

	im, err := imaging.Decode(buf.Bytes(), "image/png", imaging.Limits{})
	fmt.Println(im.MediaType, im.Width(), im.Height(), im.HasAlpha, err)

	// Limits are checked from the header, before any pixel is decoded.
	_, err = imaging.Decode(buf.Bytes(), "", imaging.Limits{MaxPixels: 10_000})
	var e *imaging.Error
	fmt.Println(errors.As(err, &e), e.Code)
	// Output:
	// image/png 300 200 true <nil>
	// true too_many_pixels
}
