package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/8949market/market/shared/api"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remote string
		xff    []string // X-Forwarded-For headers, in order
		hops   int
		want   string
	}{
		{"no hop, IPv4", "203.0.113.7:52000", nil, 0, "203.0.113.7"},
		{"no hop, IPv6", "[::1]:1234", nil, 0, "::1"},
		{"no hop, full IPv6", "[2001:db8::5]:443", nil, 0, "2001:db8::5"},
		{"no hop ignores the header", "203.0.113.7:52000", []string{"198.51.100.1"}, 0, "203.0.113.7"},
		{"no hop, address without port", "203.0.113.7", nil, 0, "203.0.113.7"},
		{"one hop", "10.0.0.1:80", []string{"198.51.100.1"}, 1, "198.51.100.1"},
		{"one hop ignores spoofed entries", "10.0.0.1:80", []string{"1.2.3.4, 5.6.7.8, 198.51.100.1"}, 1, "198.51.100.1"},
		{"one hop, spaces", "10.0.0.1:80", []string{" 1.2.3.4 ,198.51.100.1 "}, 1, "198.51.100.1"},
		{"one hop, IPv6 entry", "10.0.0.1:80", []string{"2001:db8::9"}, 1, "2001:db8::9"},
		{"two hops", "10.0.0.1:80", []string{"1.2.3.4, 198.51.100.1, 10.0.0.2"}, 2, "198.51.100.1"},
		{"two hops, exactly two entries", "10.0.0.1:80", []string{"198.51.100.1, 10.0.0.2"}, 2, "198.51.100.1"},
		{"several headers combined", "10.0.0.1:80", []string{"1.2.3.4, 5.6.7.8", "198.51.100.1", "10.0.0.2"}, 2, "198.51.100.1"},
		{"several headers, one hop", "10.0.0.1:80", []string{"1.2.3.4", "198.51.100.1"}, 1, "198.51.100.1"},
		{"fewer entries than hops", "203.0.113.7:52000", []string{"198.51.100.1"}, 2, "203.0.113.7"},
		{"no header behind a proxy", "203.0.113.7:52000", nil, 1, "203.0.113.7"},
		{"empty header", "[::1]:1234", []string{""}, 1, "::1"},
		{"only commas", "203.0.113.7:52000", []string{" , ,"}, 1, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := api.ClientAddr(r, tt.hops); got != tt.want {
				t.Errorf("ClientAddr(hops %d) = %q, want %q", tt.hops, got, tt.want)
			}
		})
	}
}
