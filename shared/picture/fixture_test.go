package picture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var (
	red   = color.RGBA{R: 255, A: 255}
	green = color.RGBA{G: 255, A: 255}
	blue  = color.RGBA{B: 255, A: 255}
)

// marked is a w×h blue picture with a red block in the top-left corner and a
// green one in the top-right, so a test can see where the corners went.
func marked(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	b := min(w, h) / 4
	for y := range h {
		for x := range w {
			c := blue
			switch {
			case y < b && x < b:
				c = red
			case y < b && x >= w-b:
				c = green
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatalf("encode jpeg: %v", err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		tb.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// withSegments inserts raw JPEG segments right after the SOI marker.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// segment builds a JPEG marker segment with its length field.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// byteOrder is a TIFF byte order that can also append.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// gpsLatitude is the GPSLatitude value written by exifAPP1: 48°51'29.60".
var gpsLatitude = []uint32{48, 1, 51, 1, 2960, 100}

// exifAPP1 builds an APP1 segment holding a TIFF block in byte order bo: IFD0
// with Orientation and a GPS IFD pointer, and a GPS IFD with GPSLatitudeRef
// and GPSLatitude, as a phone writes them.
func exifAPP1(bo byteOrder, orient uint16) []byte {
	t := make([]byte, 0, 128)
	if bo == byteOrder(binary.LittleEndian) {
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
	for _, v := range gpsLatitude {
		t = bo.AppendUint32(t, v)
	}
	return segment(0xE1, append([]byte("Exif\x00\x00"), t...))
}

// pngHeader builds a PNG declaring w×h RGB pixels with a tiny IDAT: the
// decompression-bomb shape, a few dozen bytes claiming any size.
func pngHeader(w, h uint32) []byte {
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
	zw.Write(make([]byte, 1024))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out
}

// jpegHeader builds a JPEG whose SOF0 declares w×h, followed by a scan header
// and a few bytes of entropy-coded data.
func jpegHeader(w, h uint16) []byte {
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	sos := []byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}
	out := []byte{0xFF, 0xD8}
	out = append(out, segment(0xC0, sof)...)
	out = append(out, segment(0xDA, sos)...)
	out = append(out, make([]byte, 64)...)
	return append(out, 0xFF, 0xD9)
}

// markers lists the marker bytes of the segments before the first scan.
func markers(tb testing.TB, jpg []byte) []byte {
	tb.Helper()
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		tb.Fatalf("not a JPEG: % x", jpg[:min(len(jpg), 4)])
	}
	var ms []byte
	for i := 2; i+4 <= len(jpg); {
		if jpg[i] != 0xFF {
			tb.Fatalf("no marker at %d", i)
		}
		m := jpg[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:]))
	}
	tb.Fatal("no start of scan")
	return nil
}

// assertClean fails unless jpg is a JPEG with no APPn or COM segment and none
// of the metadata written by the fixtures.
func assertClean(tb testing.TB, jpg []byte) {
	tb.Helper()
	for _, m := range markers(tb, jpg) {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			tb.Errorf("output has segment FF%02X", m)
		}
	}
	leaks := [][]byte{[]byte("Exif"), []byte("xmpmeta"), []byte("Photoshop"), []byte("rue des Martyrs")}
	for _, bo := range []byteOrder{binary.BigEndian, binary.LittleEndian} {
		var lat []byte
		for _, v := range gpsLatitude {
			lat = bo.AppendUint32(lat, v)
		}
		leaks = append(leaks, lat)
	}
	for _, leak := range leaks {
		if bytes.Contains(jpg, leak) {
			tb.Errorf("output contains %q", leak)
		}
	}
}

// near reports whether c is within 60 of want on each channel, loose enough
// for JPEG artefacts.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) < 60 && int(b)-int(a>>8) < 60 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
