package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"slices"

	"golang.org/x/image/draw"
)

// render makes one JPEG per size. Sizes are scaled from the largest down, each
// from the previous intermediate when that is still at least as large, so a
// 12 MP photo is resampled in full once; orientation is applied to the small
// intermediates, not to the source.
func render(img image.Image, o orientation, sizes []Size) ([]Rendition, error) {
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sizes[b].MaxSide - sizes[a].MaxSide })

	out := make([]Rendition, len(sizes))
	src := img
	for _, i := range order {
		s := sizes[i]
		w, h := fit(src.Bounds().Dx(), src.Bounds().Dy(), s.MaxSide)
		scaled := scale(src, w, h)
		src = scaled

		up := o.apply(flatten(scaled))
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, up, &jpeg.Options{Quality: s.Quality}); err != nil {
			return nil, fmt.Errorf("picture: encode %q: %w", s.Name, err)
		}
		out[i] = Rendition{
			Name:        s.Name,
			Data:        buf.Bytes(),
			Width:       up.Rect.Dx(),
			Height:      up.Rect.Dy(),
			ContentType: "image/jpeg",
		}
	}
	return out, nil
}

// fit returns w×h scaled to fit within side×side, keeping the aspect ratio
// and never enlarging.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, clampSide((h*side + w/2) / w)
	}
	return clampSide((w*side + h/2) / h), side
}

func clampSide(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// scale resamples src to w×h premultiplied RGBA with Catmull-Rom, or copies
// it when the size is unchanged.
func scale(src image.Image, w, h int) *image.RGBA {
	sb := src.Bounds()
	if r, ok := src.(*image.RGBA); ok && sb.Dx() == w && sb.Dy() == h {
		return r
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if sb.Dx() == w && sb.Dy() == h {
		draw.Draw(dst, dst.Rect, src, sb.Min, draw.Src)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Rect, src, sb, draw.Src, nil)
	return dst
}

// flatten returns m composited over white, fully opaque. m is not modified,
// since it may feed a smaller size.
func flatten(m *image.RGBA) *image.RGBA {
	out := &image.RGBA{Pix: make([]byte, len(m.Pix)), Stride: m.Stride, Rect: m.Rect}
	for i := 0; i+3 < len(m.Pix); i += 4 {
		a := int(m.Pix[i+3])
		for c := range 3 {
			// Premultiplied: over white is c + (255 - a).
			v := int(m.Pix[i+c]) + 255 - a
			out.Pix[i+c] = byte(min(v, 255))
		}
		out.Pix[i+3] = 255
	}
	return out
}
