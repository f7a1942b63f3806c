package api

import (
	"net"
	"net/http"
	"strings"
)

// ClientAddr is the address of the client that sent r. Behind trustedHops proxies that
// each append to X-Forwarded-For (Cloud Run's front end, a load balancer), the client is
// the entry that many from the right; entries further left are the client's own claims
// and are ignored. With no trusted hop it is the connection's address.
func ClientAddr(r *http.Request, trustedHops int) string {
	if trustedHops > 0 {
		var hops []string
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for _, part := range strings.Split(h, ",") {
				if p := strings.TrimSpace(part); p != "" {
					hops = append(hops, p)
				}
			}
		}
		if len(hops) >= trustedHops {
			return hops[len(hops)-trustedHops]
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
