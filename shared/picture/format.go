package picture

import "bytes"

type format int

const (
	formatJPEG format = iota + 1
	formatPNG
	formatWebP
)

// String is the Result.Format value.
func (f format) String() string {
	switch f {
	case formatJPEG:
		return "jpeg"
	case formatPNG:
		return "png"
	case formatWebP:
		return "webp"
	}
	return "unknown"
}

// Name is the format as a seller would write it.
func (f format) Name() string {
	switch f {
	case formatJPEG:
		return "JPEG"
	case formatPNG:
		return "PNG"
	case formatWebP:
		return "WebP"
	}
	return "image"
}

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// otherFormats are images recognised by their magic bytes and refused.
var otherFormats = []struct {
	name  string
	magic []byte
}{
	{"GIF", []byte("GIF87a")},
	{"GIF", []byte("GIF89a")},
	{"TIFF", []byte("II*\x00")},
	{"TIFF", []byte("MM\x00*")},
	{"JPEG XL", []byte{0xFF, 0x0A}},
	{"JPEG XL", []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")},
	{"JPEG 2000", []byte("\x00\x00\x00\x0cjP  \r\n\x87\n")},
	{"ICO", []byte{0, 0, 1, 0}},
	{"Photoshop", []byte("8BPS")},
}

// heifBrands are ISO-BMFF major brands of HEIC and AVIF pictures.
var heifBrands = []string{"heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1", "avif", "avis"}

// sniff identifies the format from the leading bytes alone.
func sniff(b []byte) (format, error) {
	switch {
	case bytes.HasPrefix(b, magicJPEG):
		return formatJPEG, nil
	case bytes.HasPrefix(b, magicPNG):
		return formatPNG, nil
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		// VP8X flags byte, bit 1: animation.
		if len(b) >= 21 && string(b[12:16]) == "VP8X" && b[20]&0x02 != 0 {
			return 0, reject(Unsupported, "animated WebP images are not supported; upload a still JPEG, PNG or WebP")
		}
		return formatWebP, nil
	}
	if name := otherFormat(b); name != "" {
		return 0, reject(Unsupported, "%s images are not supported; upload a JPEG, PNG or WebP", name)
	}
	return 0, reject(NotImage, "the file is not a JPEG, PNG or WebP image")
}

func otherFormat(b []byte) string {
	for _, o := range otherFormats {
		if bytes.HasPrefix(b, o.magic) {
			return o.name
		}
	}
	// BMP: "BM", then the file size, reserved zeros and a pixel offset; the
	// DIB header size keeps text starting with "BM" from matching.
	if len(b) >= 18 && b[0] == 'B' && b[1] == 'M' && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0 {
		switch b[14] {
		case 12, 40, 52, 56, 64, 108, 124:
			return "BMP"
		}
	}
	if len(b) >= 12 && string(b[4:8]) == "ftyp" {
		brand := string(b[8:12])
		for _, h := range heifBrands {
			if brand == h {
				if h[0] == 'a' {
					return "AVIF"
				}
				return "HEIC"
			}
		}
	}
	return ""
}
