package picture

import (
	"image"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

func TestHalveMatchesWholePicture(t *testing.T) {
	t.Parallel()

	for _, size := range []image.Point{{800, 600}, {1000, 1002}, {640, 2 * (bandRows + 2*bandPad)}, {640, 2*(bandRows+2*bandPad) + 2}, {300, 90}, {2, 2}} {
		rng := rand.New(rand.NewPCG(uint64(size.X), uint64(size.Y)))
		src := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
		for i := range src.Pix {
			src.Pix[i] = byte(rng.Uint32())
		}
		for i := 3; i < len(src.Pix); i += 4 {
			src.Pix[i] = 255
		}
		want := image.NewRGBA(image.Rect(0, 0, size.X/2, size.Y/2))
		draw.CatmullRom.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)

		got := halve(src)
		if got.Rect != want.Rect {
			t.Fatalf("%v: got %v, want %v", size, got.Rect, want.Rect)
		}
		for i := range got.Pix {
			if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%v: byte %d (row %d) is %d, whole-picture scaling gives %d", size, i, i/got.Stride, got.Pix[i], want.Pix[i])
			}
		}
	}
}

func TestFit(t *testing.T) {
	t.Parallel()

	tests := []struct{ w, h, side, wantW, wantH int }{
		{4000, 3000, 400, 400, 300},
		{4000, 3000, 1600, 1600, 1200},
		{3024, 4032, 1600, 1200, 1600},
		{300, 200, 400, 300, 200},
		{10000, 100, 400, 400, 4},
		{10000, 10, 400, 400, 1},
	}
	for _, tt := range tests {
		if w, h := fit(tt.w, tt.h, tt.side); w != tt.wantW || h != tt.wantH {
			t.Errorf("fit(%d, %d, %d) = %d×%d, want %d×%d", tt.w, tt.h, tt.side, w, h, tt.wantW, tt.wantH)
		}
	}
}
