package picture

import (
	"bytes"
	"encoding/binary"
	"image"
)

// orientation is the EXIF Orientation tag: how the stored pixels must be
// turned to show upright. 1 is upright; 6 (turn 90° clockwise) is what phones
// write for portrait shots.
type orientation uint16

// upright returns the dimensions after applying o to a w×h image.
func (o orientation) upright(w, h int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}

// jpegOrientation reads the Orientation tag from the first EXIF APP1 segment
// of a JPEG, returning 1 when there is none or it cannot be read.
func jpegOrientation(b []byte) orientation {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || m >= 0xD0 && m <= 0xD8: // markers without a length
			i += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if m == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation finds tag 0x0112 in IFD0 of a TIFF block.
func exifOrientation(t []byte) orientation {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	entries := int(bo.Uint16(t[off:]))
	for k := range entries {
		e := int(off) + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint32(t[e+4:]) != 1 {
			return 1
		}
		var v uint32
		switch bo.Uint16(t[e+2:]) {
		case 3: // SHORT
			v = uint32(bo.Uint16(t[e+8:]))
		case 4: // LONG, written by a few tools
			v = bo.Uint32(t[e+8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return orientation(v)
	}
	return 1
}

// flatten returns src composited over white, fully opaque, and turned
// upright, in one pass. src is premultiplied, so over white each channel is
// c + 255 - alpha. src is not modified: it may feed a smaller size.
func (o orientation) flatten(src *image.RGBA) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := o.upright(sw, sh)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row := dst.Pix[y*dst.Stride:]
		for x := range w {
			sx, sy := o.source(x, y, sw, sh)
			p := src.Pix[src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy):]
			white := 255 - int(p[3])
			for c := range 3 {
				row[4*x+c] = byte(min(int(p[c])+white, 255))
			}
			row[4*x+3] = 255
		}
	}
	return dst
}

// source maps upright pixel (x, y) to the stored pixel of a sw×sh image.
func (o orientation) source(x, y, sw, sh int) (int, int) {
	switch o {
	case 2: // mirrored
		return sw - 1 - x, y
	case 3: // turned 180°
		return sw - 1 - x, sh - 1 - y
	case 4: // flipped
		return x, sh - 1 - y
	case 5: // transposed
		return y, x
	case 6: // turn 90° clockwise
		return y, sh - 1 - x
	case 7: // transversed
		return sw - 1 - y, sh - 1 - x
	case 8: // turn 90° counter-clockwise
		return sw - 1 - y, x
	}
	return x, y
}
