// Package picturetest makes pictures for tests: marked images in every format the
// platform takes or refuses, phone photos carrying EXIF with a GPS position, and
// decompression bombs, all built in memory.
package picturetest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// The colours of a Marked picture.
var (
	Red   = color.RGBA{R: 255, A: 255}
	Green = color.RGBA{G: 255, A: 255}
	Blue  = color.RGBA{B: 255, A: 255}
)

// Marked is a w×h blue picture with a red block in the top-left corner and a
// green one in the top-right, so a test can see where the corners went.
func Marked(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	b := min(w, h) / 4
	for y := range h {
		for x := range w {
			c := Blue
			switch {
			case y < b && x < b:
				c = Red
			case y < b && x >= w-b:
				c = Green
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// EncodeJPEG encodes m as a JPEG at quality 90.
func EncodeJPEG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatalf("encode jpeg: %v", err)
	}
	return buf.Bytes()
}

// EncodePNG encodes m as a PNG.
func EncodePNG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		tb.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

// WithSegments inserts raw JPEG segments right after the SOI marker.
func WithSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// Segment builds a JPEG marker segment with its length field.
func Segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// ByteOrder is a TIFF byte order that can also append.
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// GPSLatitude is the GPSLatitude value EXIF writes: 48°51'29.60".
var GPSLatitude = []uint32{48, 1, 51, 1, 2960, 100}

// EXIF builds an APP1 segment holding a TIFF block in byte order bo: IFD0
// with Orientation and a GPS IFD pointer, and a GPS IFD with GPSLatitudeRef
// and GPSLatitude, as a phone writes them.
func EXIF(bo ByteOrder, orient uint16) []byte {
	t := make([]byte, 0, 128)
	if bo == ByteOrder(binary.LittleEndian) {
		t = append(t, "II"...)
	} else {
		t = append(t, "MM"...)
	}
	t = bo.AppendUint16(t, 42)
	t = bo.AppendUint32(t, 8)

	const ifd0Len = 2 + 2*12 + 4
	gpsOff := uint32(8 + ifd0Len)
	const gpsLen = 2 + 2*12 + 4
	latOff := gpsOff + gpsLen

	entry := func(tag, typ uint16, count uint32, value []byte) {
		t = bo.AppendUint16(t, tag)
		t = bo.AppendUint16(t, typ)
		t = bo.AppendUint32(t, count)
		t = append(t, value...)
	}
	short := bo.AppendUint16(nil, orient)
	short = append(short, 0, 0)

	t = bo.AppendUint16(t, 2)
	entry(0x0112, 3, 1, short)                        // Orientation
	entry(0x8825, 4, 1, bo.AppendUint32(nil, gpsOff)) // GPS IFD pointer
	t = bo.AppendUint32(t, 0)

	t = bo.AppendUint16(t, 2)
	entry(0x0001, 2, 2, []byte("N\x00\x00\x00"))      // GPSLatitudeRef
	entry(0x0002, 5, 3, bo.AppendUint32(nil, latOff)) // GPSLatitude
	t = bo.AppendUint32(t, 0)
	for _, v := range GPSLatitude {
		t = bo.AppendUint32(t, v)
	}
	return Segment(0xE1, append([]byte("Exif\x00\x00"), t...))
}

// PNGHeader builds a PNG declaring w×h RGB pixels with a tiny IDAT: the
// decompression-bomb shape, a few dozen bytes claiming any size.
func PNGHeader(w, h uint32) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		c := append([]byte(typ), data...)
		out = append(out, c...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, no interlace
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1024)) // into a bytes.Buffer: cannot fail
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out
}

// JPEGHeader builds a JPEG whose SOF0 declares w×h, followed by a scan header
// and a few bytes of entropy-coded data.
func JPEGHeader(w, h uint16) []byte {
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	sos := []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}
	out := []byte{0xFF, 0xD8}
	out = append(out, Segment(0xC0, sof)...)
	out = append(out, Segment(0xDA, sos)...)
	out = append(out, make([]byte, 64)...)
	return append(out, 0xFF, 0xD9)
}

// JPEG is a Marked w×h picture as a JPEG.
func JPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	return EncodeJPEG(tb, Marked(w, h))
}

// PNG is a Marked w×h picture as a PNG.
func PNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	return EncodePNG(tb, Marked(w, h))
}

// GIF is a Marked w×h picture as a GIF, a format the platform refuses.
func GIF(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, Marked(w, h), nil); err != nil {
		tb.Fatalf("encode gif: %v", err)
	}
	return buf.Bytes()
}

// WithGPS is jpg as a phone writes it: with an EXIF block holding an orientation (1,
// upright) and a GPS position (GPSLatitude).
func WithGPS(tb testing.TB, jpg []byte) []byte {
	tb.Helper()
	return WithSegments(jpg, EXIF(binary.LittleEndian, 1))
}

// PNGBomb is a PNG of a few hundred bytes declaring w×h pixels.
func PNGBomb(tb testing.TB, w, h uint32) []byte {
	tb.Helper()
	return PNGHeader(w, h)
}
