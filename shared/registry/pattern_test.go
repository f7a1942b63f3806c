package registry

import (
	"slices"
	"testing"
)

func TestParsePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw   string
		ok    bool
		shape string
	}{
		{"/api/v1/products", true, "/api/v1/products"},
		{"/api/v1/products/{productId}", true, "/api/v1/products/{}"},
		{"/api/v1/products/{productId}/schedule", true, "/api/v1/products/{}/schedule"},
		{"/", false, ""},
		{"api/v1", false, ""},
		{"/api/v1/", false, ""},
		{"/api//v1", false, ""},
		{"/api/{a}/{a}", false, ""},
		{"/api/x{a}", false, ""},
		{"/api/{1a}", false, ""},
		{"/api/{}", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePattern(tt.raw)
			if (err == nil) != tt.ok {
				t.Fatalf("ParsePattern(%q) error = %v, want ok %v", tt.raw, err, tt.ok)
			}
			if tt.ok && p.Shape() != tt.shape {
				t.Errorf("Shape() = %q, want %q", p.Shape(), tt.shape)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	p, err := ParsePattern("/api/v1/products/{productId}/items/{itemId}")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		ok     bool
		values []string
	}{
		{"/api/v1/products/p1/items/i2", true, []string{"p1", "i2"}},
		{"/api/v1/products/p1/items/", false, nil},
		{"/api/v1/products/p1/items", false, nil},
		{"/api/v1/products/p1/items/i2/x", false, nil},
		{"/api/v1/products//items/i2", false, nil},
		{"/api/v1/products/p1/things/i2", false, nil},
		{"api/v1/products/p1/items/i2", false, nil},
		{"", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			values, ok := p.Match(tt.path)
			if ok != tt.ok || !slices.Equal(values, tt.values) {
				t.Errorf("Match(%q) = %v, %v; want %v, %v", tt.path, values, ok, tt.values, tt.ok)
			}
		})
	}
}

func TestMoreSpecific(t *testing.T) {
	t.Parallel()
	my, _ := ParsePattern("/api/v1/products/my")
	byID, _ := ParsePattern("/api/v1/products/{productId}")
	if !my.MoreSpecific(byID) || byID.MoreSpecific(my) {
		t.Error("a literal segment must beat a parameter at the same position")
	}
}
