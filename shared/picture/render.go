package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"slices"

	"golang.org/x/image/draw"
)

// render makes one JPEG per size. Sizes are made from the largest down, each
// scaled from the previous one, so a 12 MP photo is resampled in full once;
// the white background and the orientation are applied to each output, not
// to the source.
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
		w, h := fit(img.Bounds().Dx(), img.Bounds().Dy(), s.MaxSide)
		scaled := scale(src, w, h)
		src = scaled

		up := o.flatten(scaled)
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

// scale resamples src to w×h premultiplied RGBA, copying it when the size is
// unchanged. Downscaling goes through an intermediate of exactly 2w×2h: a
// cheap bilinear pass (after box halvings for large ratios) then Catmull-Rom
// by exactly 2, which can run in bands of rows. Catmull-Rom over the whole
// picture at once would hold a float64 buffer of w×(source height)×32 bytes,
// 155 MB for a 12 MP photo into 1600×1200.
func scale(src image.Image, w, h int) *image.RGBA {
	sb := src.Bounds()
	if sb.Dx() == w && sb.Dy() == h {
		if r, ok := src.(*image.RGBA); ok {
			return r
		}
		return resample(nil, src, w, h)
	}
	for sb.Dx() >= 4*w && sb.Dy() >= 4*h {
		src = resample(draw.ApproxBiLinear, src, sb.Dx()/2, sb.Dy()/2)
		sb = src.Bounds()
	}
	mid, ok := src.(*image.RGBA)
	if sb.Dx() != 2*w || sb.Dy() != 2*h || !ok {
		mid = resample(draw.ApproxBiLinear, src, 2*w, 2*h)
	}
	return halve(mid)
}

// resample scales src to w×h with s, or converts it when the size is
// unchanged.
func resample(s draw.Scaler, src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if src.Bounds().Size() == dst.Rect.Size() {
		draw.Draw(dst, dst.Rect, src, src.Bounds().Min, draw.Src)
		return dst
	}
	s.Scale(dst, dst.Rect, src, src.Bounds(), draw.Src, nil)
	return dst
}

// Bands for halve: destination rows written per pass, and rows of context
// above and below (Catmull-Rom reaches 2 destination rows when halving).
const (
	bandRows = 120
	bandPad  = 4
)

// halve scales src, exactly 2w×2h, to w×h with Catmull-Rom, band by band.
// Every band maps source rows 2y to destination rows y, as the whole picture
// would, so the result does not depend on the banding.
func halve(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	win := min(bandRows+2*bandPad, h) // window height, the same for every band
	sc := draw.CatmullRom.NewScaler(w, win, 2*w, 2*win)
	for y0 := 0; y0 < h; y0 += bandRows {
		y1 := min(y0+bandRows, h)
		e0 := min(max(y0-bandPad, 0), h-win)
		band := dst.SubImage(image.Rect(0, y0, w, y1)).(*image.RGBA)
		sr := image.Rect(0, 2*e0, 2*w, 2*(e0+win)).Add(src.Rect.Min)
		sc.Scale(band, image.Rect(0, e0, w, e0+win), src, sr, draw.Src, nil)
	}
	return dst
}
