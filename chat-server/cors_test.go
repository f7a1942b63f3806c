package chatserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/chat/chattest"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack/stacktest"
)

const (
	pageOrigin    = "http://localhost:5173"
	foreignOrigin = "https://evil.example.com"
)

func allowPage(cfg *config.Config) { cfg.CORSAllowedOrigins = []string{pageOrigin} }

// The WebSocket admits the pages of CORS_ALLOWED_ORIGINS, its own host's, and clients
// that send no Origin (not browsers); any other page is refused with 403, also when no
// origin is configured.
func TestWebSocketOrigins(t *testing.T) {
	t.Parallel()
	configured := chattest.Start(t, allowPage)
	none := stacktest.Start(t)
	tests := []struct {
		name     string
		st       *stacktest.Stack
		origin   string // "self": the chat server's own origin
		accepted bool
	}{
		{"allowed page", configured, pageOrigin, true},
		{"foreign page", configured, foreignOrigin, false},
		{"no Origin", configured, "", true},
		{"none configured: the page allowed elsewhere", none, pageOrigin, false},
		{"none configured: foreign page", none, foreignOrigin, false},
		{"none configured: own host", none, "self", true},
		{"none configured: no Origin", none, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, _ := tt.st.Token(t, auth.RoleUser)
			header := chattest.Bearer(token)
			switch tt.origin {
			case "":
			case "self":
				header.Set("Origin", tt.st.ChatURL)
			default:
				header.Set("Origin", tt.origin)
			}
			if !tt.accepted {
				chattest.Refused(t, chattest.WSURL(tt.st.ChatURL), header, nil, http.StatusForbidden, "")
				return
			}
			chattest.DialWith(t, tt.st.ChatURL, header, nil).Close()
		})
	}
}

// The chat server's REST routes answer a browser's preflight themselves, on their own
// URL and through the API origin's proxy, and mark their answers, refusals included, for
// an allowed page.
func TestChatRESTCORS(t *testing.T) {
	t.Parallel()
	st := chattest.Start(t, allowPage)
	client := &http.Client{}
	tests := []struct {
		name, method, origin, ask string
		status                    int
		allowed                   bool
	}{
		{"preflight", "OPTIONS", pageOrigin, "GET", 204, true},
		{"preflight for POST (mark read)", "OPTIONS", pageOrigin, "POST", 204, true},
		{"preflight from a foreign page", "OPTIONS", foreignOrigin, "GET", 403, false},
		{"a call without a token: refused, readable", "GET", pageOrigin, "", 401, true},
		{"a call from a foreign page: not marked", "GET", foreignOrigin, "", 401, false},
	}
	for _, base := range []struct{ name, url string }{{"chat server", st.ChatURL}, {"API origin", st.URL}} {
		for _, tt := range tests {
			t.Run(base.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequestWithContext(t.Context(), tt.method, base.url+"/api/v1/chat/rooms", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Origin", tt.origin)
				if tt.ask != "" {
					req.Header.Set("Access-Control-Request-Method", tt.ask)
					req.Header.Set("Access-Control-Request-Headers", "authorization")
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
				if res.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
				}
				want := ""
				if tt.allowed {
					want = tt.origin
				}
				if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, want)
				}
				if tt.status == 204 && !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), tt.ask) {
					t.Errorf("Access-Control-Allow-Methods = %q, want %s", res.Header.Get("Access-Control-Allow-Methods"), tt.ask)
				}
			})
		}
	}
}
