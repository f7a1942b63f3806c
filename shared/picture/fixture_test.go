package picture

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/8949market/market/shared/picture/picturetest"
)

var (
	red   = picturetest.Red
	green = picturetest.Green
	blue  = picturetest.Blue
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
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
	for _, bo := range []picturetest.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		var lat []byte
		for _, v := range picturetest.GPSLatitude {
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

// assertCorners decodes jpg and checks the colour near each corner, in the
// order top-left, top-right, bottom-left, bottom-right.
func assertCorners(tb testing.TB, jpg []byte, want ...color.RGBA) {
	tb.Helper()
	m, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	b := m.Bounds()
	in := max(2, min(b.Dx(), b.Dy())/20)
	points := []image.Point{{in, in}, {b.Dx() - 1 - in, in}, {in, b.Dy() - 1 - in}, {b.Dx() - 1 - in, b.Dy() - 1 - in}}
	for i, p := range points {
		if got := m.At(b.Min.X+p.X, b.Min.Y+p.Y); !near(got, want[i]) {
			tb.Errorf("corner %d at %v is %v, want %v", i, p, got, want[i])
		}
	}
}
