package api

import "net/http"

// securityHeaders are what every response carries unless its handler set the header
// itself (the key set's public Cache-Control, say). The platform answers JSON, never a
// page: nothing in it is to be sniffed as another type, framed, given a referrer or, for
// answers about a person, kept in a shared cache.
var securityHeaders = [...]struct{ key, value string }{
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "no-store"},
}

// setSecurityHeaders adds the security headers h lacks.
func setSecurityHeaders(h http.Header) {
	for _, s := range securityHeaders {
		if _, ok := h[s.key]; !ok {
			h[s.key] = []string{s.value}
		}
	}
}

// Secure makes every response of next carry the security headers, whoever writes it:
// Instrument does the same for a function, Secure covers what an origin answers around
// its functions (the ServeMux's redirects, the chat server's responses proxied through).
// The headers are added as the status is written, so a header a handler or a proxied
// server set stays as set and is not doubled.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &secureWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if !sw.wroteHeader {
			sw.WriteHeader(http.StatusOK) // what net/http would send, with the headers
		}
	})
}

// secureWriter adds the security headers when the status is written.
type secureWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *secureWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		setSecurityHeaders(w.Header())
		// An informational status (100 Continue, 103) is not the response: the final one
		// still gets its headers.
		w.wroteHeader = status >= 200 || status == http.StatusSwitchingProtocols
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *secureWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack (a proxied WebSocket).
func (w *secureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
