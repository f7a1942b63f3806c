// Package picture turns an uploaded product photo into display images that are
// safe to publish.
//
// Phones write the GPS position of the shot, the device and the time into the
// EXIF block of every photo; a seller uploading a picture taken at home would
// publish their address. Deleting known segments is fragile (XMP, ICC, maker
// notes, comments, vendor APPn blocks), so Process decodes the pixels and
// encodes new JPEGs from them: the output carries no metadata at all.
//
// Uploads are untrusted. The format is identified by its magic bytes only, and
// the dimensions are read from the header and checked against Limits before a
// single pixel buffer is allocated, so a few hundred bytes declaring a
// 60000×60000 image (a decompression bomb) are refused cheaply.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Limits bound what Process accepts. A zero field takes its value from
// DefaultLimits, so a zero Limits is never "unlimited".
type Limits struct {
	MaxBytes  int // longest accepted file
	MinSide   int // shortest accepted width or height, in pixels
	MaxSide   int // longest accepted width or height, in pixels
	MaxPixels int // largest accepted width×height
}

// DefaultLimits suits product photos: any phone camera fits, and decoding the
// largest accepted image needs at most about 200 MB of pixels.
var DefaultLimits = Limits{MaxBytes: 10 << 20, MinSide: 100, MaxSide: 10000, MaxPixels: 50_000_000}

// Size is one rendition to make: the picture scaled to fit within
// MaxSide×MaxSide (never enlarged), encoded as JPEG at Quality (1-100).
type Size struct {
	Name    string
	MaxSide int
	Quality int
}

// DisplaySizes are the renditions the market shows: a list thumbnail and the
// product page image.
var DisplaySizes = []Size{
	{Name: "thumb", MaxSide: 400, Quality: 80},
	{Name: "large", MaxSide: 1600, Quality: 85},
}

// Result describes an accepted picture and its renditions.
type Result struct {
	Format     string // "jpeg", "png" or "webp"
	Width      int    // upright, after EXIF orientation
	Height     int
	Renditions []Rendition // in the order of the requested sizes
}

// Rendition is one encoded display image.
type Rendition struct {
	Name        string
	Data        []byte
	Width       int
	Height      int
	ContentType string // always "image/jpeg"
}

// Process checks data against lim, decodes it, turns it upright and returns
// one metadata-free JPEG per size. An unacceptable upload yields a *Rejection;
// any other error is an encoder failure or an invalid Size.
func Process(data []byte, lim Limits, sizes []Size) (Result, error) {
	lim = lim.withDefaults()
	for _, s := range sizes {
		if s.MaxSide <= 0 {
			return Result{}, fmt.Errorf("picture: size %q has MaxSide %d", s.Name, s.MaxSide)
		}
	}
	if len(data) > lim.MaxBytes {
		return Result{}, reject(TooLarge, "the file is %s; at most %s", megabytes(len(data)), megabytes(lim.MaxBytes))
	}
	f, err := sniff(data)
	if err != nil {
		return Result{}, err
	}
	cfg, err := f.config(data)
	if err != nil {
		return Result{}, err
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return Result{}, err
	}
	img, err := f.decode(data)
	if err != nil {
		return Result{}, err
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return Result{}, reject(Corrupt, "the image is damaged and cannot be read")
	}

	o := orientation(1)
	if f == formatJPEG {
		o = jpegOrientation(data)
	}
	w, h := o.upright(cfg.Width, cfg.Height)
	rs, err := render(img, o, sizes)
	if err != nil {
		return Result{}, err
	}
	return Result{Format: f.String(), Width: w, Height: h, Renditions: rs}, nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MinSide <= 0 {
		l.MinSide = DefaultLimits.MinSide
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// check is the decompression-bomb guard, applied to header dimensions.
func (l Limits) check(w, h int) error {
	if w > l.MaxSide || h > l.MaxSide || w*h > l.MaxPixels {
		return reject(TooManyPixels, "the image is %d×%d pixels; at most %d pixels on a side and %s megapixels",
			w, h, l.MaxSide, decimal(float64(l.MaxPixels)/1e6))
	}
	if w < l.MinSide || h < l.MinSide {
		return reject(TooSmall, "the image is %d×%d pixels; it must be at least %d pixels on each side", w, h, l.MinSide)
	}
	return nil
}

// config reads the dimensions from the header without decoding pixels.
func (f format) config(data []byte) (image.Config, error) {
	var cfg image.Config
	err := guard(func() (err error) {
		r := bytes.NewReader(data)
		switch f {
		case formatJPEG:
			cfg, err = jpeg.DecodeConfig(r)
		case formatPNG:
			cfg, err = png.DecodeConfig(r)
		case formatWebP:
			cfg, err = webp.DecodeConfig(r)
		}
		return err
	})
	if err != nil {
		return image.Config{}, decodeRejection(f, err)
	}
	return cfg, nil
}

func (f format) decode(data []byte) (image.Image, error) {
	var img image.Image
	err := guard(func() (err error) {
		r := bytes.NewReader(data)
		switch f {
		case formatJPEG:
			img, err = jpeg.Decode(r)
		case formatPNG:
			img, err = png.Decode(r)
		case formatWebP:
			img, err = webp.Decode(r)
		}
		return err
	})
	if err != nil {
		return nil, decodeRejection(f, err)
	}
	return img, nil
}

// errPanic stands for a decoder panic, which a crafted file must not turn
// into a crash.
var errPanic = errors.New("picture: decoder panicked")

func guard(fn func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = errPanic
		}
	}()
	return fn()
}

// decodeRejection turns a decoder error into Corrupt: the bytes claimed a
// format they do not follow (or use a rare variant of it, such as an
// arithmetic-coded JPEG).
func decodeRejection(f format, err error) error {
	var jpegUnsupported jpeg.UnsupportedError
	var pngUnsupported png.UnsupportedError
	if errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported) {
		return reject(Corrupt, "the %s uses a feature that cannot be read; save it again as a standard %s", f.Name(), f.Name())
	}
	return reject(Corrupt, "the %s is damaged or incomplete and cannot be read", f.Name())
}
