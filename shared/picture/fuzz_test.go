package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/jpeg"
	"testing"

	"github.com/8949market/market/shared/picture/picturetest"
)

func FuzzProcess(f *testing.F) {
	small := picturetest.EncodeJPEG(f, picturetest.Marked(120, 90))
	f.Add(small)
	f.Add(picturetest.WithSegments(small, picturetest.EXIF(binary.BigEndian, 6)))
	f.Add(picturetest.WithSegments(small, picturetest.EXIF(binary.LittleEndian, 8)))
	f.Add(picturetest.EncodePNG(f, picturetest.Marked(100, 60)))
	f.Add(readTestdata(f, "blue-purple-pink.lossy.webp"))
	f.Add(readTestdata(f, "blue-purple-pink.lossless.webp"))
	f.Add(picturetest.PNGHeader(60000, 60000))
	f.Add(picturetest.JPEGHeader(65000, 65000))
	f.Add([]byte("hello, this is not a photo"))

	lim := Limits{MaxBytes: 1 << 20, MinSide: 1, MaxSide: 512, MaxPixels: 256 * 256}
	sizes := []Size{{Name: "thumb", MaxSide: 48, Quality: 70}}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Process(data, lim, sizes)
		if err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("non-rejection error: %v", err)
			}
			return
		}
		for _, r := range res.Renditions {
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.Data))
			if err != nil {
				t.Fatalf("output does not decode: %v", err)
			}
			if cfg.Width != r.Width || cfg.Height != r.Height || r.Width > 48 || r.Height > 48 {
				t.Fatalf("output %d×%d, says %d×%d", cfg.Width, cfg.Height, r.Width, r.Height)
			}
			for _, m := range markers(t, r.Data) {
				if m == 0xE1 {
					t.Fatal("output has an APP1 segment")
				}
			}
		}
	})
}

func FuzzJPEGOrientation(f *testing.F) {
	f.Add(append([]byte{0xFF, 0xD8}, picturetest.EXIF(binary.BigEndian, 6)...))
	f.Add(append([]byte{0xFF, 0xD8}, picturetest.EXIF(binary.LittleEndian, 3)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
