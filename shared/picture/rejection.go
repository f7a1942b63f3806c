package picture

import (
	"fmt"
	"strconv"
)

// Reason says why an upload was refused; the values are stable API codes.
type Reason string

// Reasons for a Rejection.
const (
	NotImage      Reason = "NOT_AN_IMAGE"       // bytes are not a recognised image
	Unsupported   Reason = "UNSUPPORTED_FORMAT" // another image format, or an animated WebP
	TooLarge      Reason = "FILE_TOO_LARGE"     // more than Limits.MaxBytes
	TooSmall      Reason = "IMAGE_TOO_SMALL"    // a side under Limits.MinSide
	TooManyPixels Reason = "IMAGE_TOO_LARGE"    // over Limits.MaxSide or Limits.MaxPixels
	Corrupt       Reason = "CORRUPT_IMAGE"      // the header is fine but the pixels are not
)

// Rejection is the error for an upload that is not an acceptable picture.
// Message is a sentence fit to show the seller.
type Rejection struct {
	Reason  Reason
	Message string
}

func (r *Rejection) Error() string {
	return "picture: " + r.Message
}

func reject(reason Reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// megabytes renders n bytes as "10 MB", "12.3 MB" or, under a megabyte,
// "850 KB" (binary units, as the limit is written).
func megabytes(n int) string {
	if n < 1<<20 {
		return decimal(float64(n)/(1<<10)) + " KB"
	}
	return decimal(float64(n)/(1<<20)) + " MB"
}

// decimal renders f with at most one decimal, without a trailing ".0".
func decimal(f float64) string {
	return strconv.FormatFloat(float64(int64(f*10+0.5))/10, 'f', -1, 64)
}
