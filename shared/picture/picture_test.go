package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/8949market/market/shared/picture/picturetest"
)

func TestProcessAccepts(t *testing.T) {
	t.Parallel()

	type dims struct{ w, h int }
	tests := []struct {
		name   string
		data   func(testing.TB) []byte
		format string
		size   dims // upright source
		thumb  dims // 400 max
		large  dims // 1600 max
		marked bool // picturetest.Marked: red top-left, green top-right, blue elsewhere
	}{
		{"jpeg landscape 12 MP", func(tb testing.TB) []byte { return picturetest.EncodeJPEG(tb, picturetest.Marked(4000, 3000)) },
			"jpeg", dims{4000, 3000}, dims{400, 300}, dims{1600, 1200}, true},
		{"jpeg portrait", func(tb testing.TB) []byte { return picturetest.EncodeJPEG(tb, picturetest.Marked(1500, 2000)) },
			"jpeg", dims{1500, 2000}, dims{300, 400}, dims{1200, 1600}, true},
		{"jpeg small not upscaled", func(tb testing.TB) []byte { return picturetest.EncodeJPEG(tb, picturetest.Marked(300, 200)) },
			"jpeg", dims{300, 200}, dims{300, 200}, dims{300, 200}, true},
		{"png", func(tb testing.TB) []byte { return picturetest.EncodePNG(tb, picturetest.Marked(800, 450)) },
			"png", dims{800, 450}, dims{400, 225}, dims{800, 450}, true},
		{"webp lossy", func(tb testing.TB) []byte { return readTestdata(tb, "blue-purple-pink.lossy.webp") },
			"webp", dims{150, 100}, dims{150, 100}, dims{150, 100}, false},
		{"webp lossless", func(tb testing.TB) []byte { return readTestdata(tb, "blue-purple-pink.lossless.webp") },
			"webp", dims{150, 100}, dims{150, 100}, dims{150, 100}, false},
		{"webp lossy with alpha", func(tb testing.TB) []byte { return readTestdata(tb, "yellow_rose.lossy-with-alpha.webp") },
			"webp", dims{400, 301}, dims{400, 301}, dims{400, 301}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res, err := Process(tt.data(t), DefaultLimits, DisplaySizes)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if res.Format != tt.format || res.Width != tt.size.w || res.Height != tt.size.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", res.Format, res.Width, res.Height, tt.format, tt.size.w, tt.size.h)
			}
			if len(res.Renditions) != 2 {
				t.Fatalf("got %d renditions, want 2", len(res.Renditions))
			}
			for i, want := range []dims{tt.thumb, tt.large} {
				r := res.Renditions[i]
				if r.Name != DisplaySizes[i].Name || r.ContentType != "image/jpeg" {
					t.Errorf("rendition %d is %q %q", i, r.Name, r.ContentType)
				}
				if r.Width != want.w || r.Height != want.h {
					t.Errorf("%s is %d×%d, want %d×%d", r.Name, r.Width, r.Height, want.w, want.h)
				}
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.Data))
				if err != nil {
					t.Fatalf("%s does not decode: %v", r.Name, err)
				}
				if cfg.Width != r.Width || cfg.Height != r.Height {
					t.Errorf("%s decodes as %d×%d, says %d×%d", r.Name, cfg.Width, cfg.Height, r.Width, r.Height)
				}
				assertClean(t, r.Data)
				if tt.marked {
					assertCorners(t, r.Data, red, green, blue, blue)
				}
			}
		})
	}
}

func TestProcessFlattensAlphaOntoWhite(t *testing.T) {
	t.Parallel()

	// Left half transparent, right half opaque red.
	m := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := 150; x < 300; x++ {
			m.SetNRGBA(x, y, color.NRGBA{R: 255, A: 255})
		}
	}
	res, err := Process(picturetest.EncodePNG(t, m), DefaultLimits, DisplaySizes[:1])
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	out, err := jpeg.Decode(bytes.NewReader(res.Renditions[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if c := out.At(50, 100); !near(c, color.RGBA{255, 255, 255, 255}) {
		t.Errorf("transparent pixel became %v, want white", c)
	}
	if c := out.At(250, 100); !near(c, red) {
		t.Errorf("opaque pixel became %v, want red", c)
	}
}

func TestProcessStripsMetadata(t *testing.T) {
	t.Parallel()

	xmp := picturetest.Segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>48,51.49N</exif:GPSLatitude></x:xmpmeta>"))
	iptc := picturetest.Segment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00"))
	comment := picturetest.Segment(0xFE, []byte("shot at 12 rue des Martyrs"))
	for _, bo := range []picturetest.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			t.Parallel()

			src := picturetest.WithSegments(picturetest.EncodeJPEG(t, picturetest.Marked(800, 600)), picturetest.EXIF(bo, 1), xmp, iptc, comment)
			if !bytes.Contains(src, []byte("Exif")) {
				t.Fatal("fixture carries no EXIF")
			}
			res, err := Process(src, DefaultLimits, DisplaySizes)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			for _, r := range res.Renditions {
				assertClean(t, r.Data)
			}
		})
	}
}

func TestProcessOrientation(t *testing.T) {
	t.Parallel()

	// Where the source's red top-left and green top-right blocks land.
	type corner int
	const (
		topLeft corner = iota
		topRight
		bottomLeft
		bottomRight
	)
	tests := []struct {
		orient     uint16
		red, green corner
	}{
		{1, topLeft, topRight},
		{2, topRight, topLeft},
		{3, bottomRight, bottomLeft},
		{4, bottomLeft, bottomRight},
		{5, topLeft, bottomLeft},
		{6, topRight, bottomRight}, // phone portrait: turn 90° clockwise
		{7, bottomRight, topRight},
		{8, bottomLeft, topLeft},
	}
	src := picturetest.EncodeJPEG(t, picturetest.Marked(400, 200))
	for _, tt := range tests {
		for _, bo := range []picturetest.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(string(rune('0'+tt.orient))+" "+bo.String(), func(t *testing.T) {
				t.Parallel()

				res, err := Process(picturetest.WithSegments(src, picturetest.EXIF(bo, tt.orient)), DefaultLimits, DisplaySizes)
				if err != nil {
					t.Fatalf("Process: %v", err)
				}
				w, h := 400, 200
				if tt.orient >= 5 {
					w, h = 200, 400
				}
				if res.Width != w || res.Height != h {
					t.Errorf("result is %d×%d, want %d×%d", res.Width, res.Height, w, h)
				}
				r := res.Renditions[0]
				if r.Width != w || r.Height != h {
					t.Fatalf("thumb is %d×%d, want %d×%d", r.Width, r.Height, w, h)
				}
				out, err := jpeg.Decode(bytes.NewReader(r.Data))
				if err != nil {
					t.Fatal(err)
				}
				at := func(c corner) color.Color {
					x, y := 10, 10
					if c == topRight || c == bottomRight {
						x = w - 11
					}
					if c == bottomLeft || c == bottomRight {
						y = h - 11
					}
					return out.At(x, y)
				}
				for c := topLeft; c <= bottomRight; c++ {
					want := blue
					switch c {
					case tt.red:
						want = red
					case tt.green:
						want = green
					}
					if got := at(c); !near(got, want) {
						t.Errorf("corner %d is %v, want %v", c, got, want)
					}
				}
			})
		}
	}
}

func TestProcessRejects(t *testing.T) {
	t.Parallel()

	valid := picturetest.EncodeJPEG(t, picturetest.Marked(400, 300))
	tests := []struct {
		name    string
		data    func(testing.TB) []byte
		lim     Limits
		want    []Reason // any of
		message string   // exact, when set
	}{
		{name: "text renamed .jpg", data: bytesOf("hello, this is not a photo"), want: []Reason{NotImage},
			message: "the file is not a JPEG, PNG or WebP image"},
		{name: "html", data: bytesOf("<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"), want: []Reason{NotImage}},
		{name: "svg", data: bytesOf(`<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500"/>`), want: []Reason{NotImage}},
		{name: "empty", data: bytesOf(""), want: []Reason{NotImage}},
		{name: "gif", data: func(tb testing.TB) []byte {
			var buf bytes.Buffer
			if err := gif.Encode(&buf, picturetest.Marked(200, 200), nil); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}, want: []Reason{Unsupported}},
		{name: "bmp", data: func(tb testing.TB) []byte {
			var buf bytes.Buffer
			if err := bmp.Encode(&buf, picturetest.Marked(200, 200)); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}, want: []Reason{Unsupported}},
		{name: "tiff", data: func(tb testing.TB) []byte {
			var buf bytes.Buffer
			if err := tiff.Encode(&buf, picturetest.Marked(200, 200), nil); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}, want: []Reason{Unsupported}},
		{name: "heic", data: bytesOf("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x00"), want: []Reason{Unsupported}},
		{name: "avif", data: bytesOf("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), want: []Reason{Unsupported}},
		{name: "animated webp", data: bytesOf("RIFF\x24\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\xc7\x00\x00\xc7\x00\x00ANIM\x06\x00\x00\x00\xff\xff\xff\xff\x00\x00"),
			want: []Reason{Unsupported}},
		{name: "truncated jpeg", data: func(testing.TB) []byte { return valid[:len(valid)/2] }, want: []Reason{Corrupt}},
		{name: "jpeg without image data", data: func(testing.TB) []byte { return valid[:200] }, want: []Reason{Corrupt}},
		{name: "truncated png", data: func(tb testing.TB) []byte {
			p := picturetest.EncodePNG(tb, picturetest.Marked(400, 300))
			return p[:len(p)/2]
		}, want: []Reason{Corrupt}},
		{name: "truncated webp", data: func(tb testing.TB) []byte {
			w := readTestdata(tb, "blue-purple-pink.lossless.webp")
			return w[:len(w)/2]
		}, want: []Reason{Corrupt}},
		{name: "png bomb 60000×60000", data: func(testing.TB) []byte { return picturetest.PNGHeader(60000, 60000) }, want: []Reason{TooManyPixels},
			message: "the image is 60000×60000 pixels; at most 10000 pixels on a side and 50 megapixels"},
		{name: "png 12000×9000", data: func(testing.TB) []byte { return picturetest.PNGHeader(12000, 9000) }, want: []Reason{TooManyPixels},
			message: "the image is 12000×9000 pixels; at most 10000 pixels on a side and 50 megapixels"},
		{name: "png 9000×9000 over megapixels", data: func(testing.TB) []byte { return picturetest.PNGHeader(9000, 9000) }, want: []Reason{TooManyPixels}},
		{name: "jpeg bomb 65000×65000", data: func(testing.TB) []byte { return picturetest.JPEGHeader(65000, 65000) }, want: []Reason{TooManyPixels}},
		{name: "too small", data: func(tb testing.TB) []byte { return picturetest.EncodeJPEG(tb, picturetest.Marked(50, 50)) }, want: []Reason{TooSmall},
			message: "the image is 50×50 pixels; it must be at least 100 pixels on each side"},
		{name: "too narrow", data: func(tb testing.TB) []byte { return picturetest.EncodePNG(tb, picturetest.Marked(2000, 99)) }, want: []Reason{TooSmall}},
		{name: "too many bytes", data: func(testing.TB) []byte { return valid }, want: []Reason{TooLarge},
			lim: Limits{MaxBytes: 1 << 10}, message: "the file is " + megabytes(len(valid)) + "; at most 1 KB"},
		{name: "too many bytes default", data: func(testing.TB) []byte { return append(slices.Clone(valid), make([]byte, 11<<20)...) },
			want: []Reason{TooLarge}, message: "the file is " + megabytes(len(valid)+11<<20) + "; at most 10 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := Process(tt.data(t), tt.lim, DisplaySizes)
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("got %v, want a Rejection", err)
			}
			if !slices.Contains(tt.want, rej.Reason) {
				t.Errorf("got %s (%s), want one of %v", rej.Reason, rej.Message, tt.want)
			}
			if tt.message != "" && rej.Message != tt.message {
				t.Errorf("message %q, want %q", rej.Message, tt.message)
			}
		})
	}
}

func bytesOf(s string) func(testing.TB) []byte {
	return func(testing.TB) []byte { return []byte(s) }
}

func TestProcessRandomAfterSOI(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		data := []byte{0xFF, 0xD8, 0xFF}
		for range rng.IntN(4096) {
			data = append(data, byte(rng.Uint32()))
		}
		_, err := Process(data, DefaultLimits, DisplaySizes)
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Reason != Corrupt && rej.Reason != NotImage && rej.Reason != TooSmall {
			t.Fatalf("random bytes after SOI: got %v, want a Corrupt rejection", err)
		}
	}
}

// TestProcessBombAllocation is not parallel: allocation counters are
// process-wide, so other tests must not run meanwhile.
func TestProcessBombAllocation(t *testing.T) {
	for _, data := range [][]byte{picturetest.PNGHeader(60000, 60000), picturetest.JPEGHeader(65000, 65000)} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Process(data, DefaultLimits, DisplaySizes)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)

		var rej *Rejection
		if !errors.As(err, &rej) || rej.Reason != TooManyPixels {
			t.Fatalf("got %v, want TooManyPixels", err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("refusing a bomb allocated %d bytes", n)
		}
		if elapsed > time.Second {
			t.Errorf("refusing a bomb took %v", elapsed)
		}
	}
}

func TestProcessInvalidSize(t *testing.T) {
	t.Parallel()

	_, err := Process(picturetest.EncodeJPEG(t, picturetest.Marked(200, 200)), DefaultLimits, []Size{{Name: "zero", Quality: 80}})
	var rej *Rejection
	if err == nil || errors.As(err, &rej) {
		t.Fatalf("got %v, want a plain error for MaxSide 0", err)
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	t.Parallel()

	good := picturetest.EXIF(binary.BigEndian, 6)
	tests := []struct {
		name string
		data []byte
		want orientation
	}{
		{"none", []byte{0xFF, 0xD8, 0xFF, 0xD9}, 1},
		{"valid", append([]byte{0xFF, 0xD8}, good...), 6},
		{"after fill bytes", append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, good[1:]...), 6},
		{"segment past end", append([]byte{0xFF, 0xD8}, good[:len(good)-1]...), 1},
		{"IFD offset past end", append([]byte{0xFF, 0xD8}, picturetest.Segment(0xE1, []byte("Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0"))...), 1},
		{"entry count past end", append([]byte{0xFF, 0xD8}, picturetest.Segment(0xE1, []byte("Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\xff\xff"))...), 1},
		{"bad byte order", append([]byte{0xFF, 0xD8}, picturetest.Segment(0xE1, []byte("Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08"))...), 1},
		{"value out of range", append([]byte{0xFF, 0xD8}, picturetest.EXIF(binary.LittleEndian, 9)...), 1},
		{"after start of scan", append([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}, good...), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := jpegOrientation(tt.data); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// BenchmarkProcess measures a 12 MP phone photo (4032×3024) into the display
// sizes.
func BenchmarkProcess(b *testing.B) {
	m := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	rng := rand.New(rand.NewPCG(3, 4))
	for y := range 3024 {
		for x := range 4032 {
			n := uint8(rng.IntN(24))
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / 4032), uint8(y * 255 / 3024), uint8(x^y) + n, 255})
		}
	}
	data := picturetest.WithSegments(picturetest.EncodeJPEG(b, m), picturetest.EXIF(binary.LittleEndian, 6))
	// The baseline, in the same run: decoding the JPEG, which any processing pays. The
	// ratio of the two says what checking, orienting, scaling and encoding cost on top.
	b.Run("decode-only", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("process", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Process(data, DefaultLimits, DisplaySizes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
