package info_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	_ "github.com/8949market/market/functions/platform/info"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/testenv"
)

// Anyone learns the service's name and clock; only an administrator learns how it is
// built and wired. A token that is sent is held to: an invalid one is refused.
func TestInfoShowsBuildToAdministratorsOnly(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	kit, err := platform.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kit.Close)
	fn, ok := registry.Lookup("platform-info")
	if !ok {
		t.Fatal("platform-info is not registered")
	}
	srv := httptest.NewServer(fn.Handler(kit))
	t.Cleanup(srv.Close)

	token := func(role auth.Role) string {
		id := uuid.New()
		raw, _, err := signer.Access(auth.Identity{UserID: id, Username: "u" + id.String()[:8], Nickname: "n" + id.String()[:8], Role: role}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	public := []string{"service", "time"}
	build := []string{"backbone", "functions", "goVersion", "revision", "service", "time", "topicPrefix"}
	tests := []struct {
		name   string
		token  string
		status int
		keys   []string
	}{
		{"anonymous", "", 200, public},
		{"user", token(auth.RoleUser), 200, public},
		{"manager", token(auth.RoleManager), 200, build},
		{"master", token(auth.RoleMaster), 200, build},
		{"invalid token", "not-a-token", 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/platform/info", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Data map[string]json.RawMessage `json:"data"`
				Code string                     `json:"code"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", res.StatusCode, tt.status, body.Code)
			}
			if tt.status != 200 {
				if body.Code != "C002" {
					t.Errorf("code %q, want C002", body.Code)
				}
				return
			}
			keys := slices.Sorted(maps.Keys(body.Data))
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("data keys %v, want %v", keys, tt.keys)
			}
			if string(body.Data["service"]) != `"8949-market"` {
				t.Errorf("service = %s", body.Data["service"])
			}
			goVersion := strings.Contains(string(body.Data["goVersion"]), runtime.Version())
			if goVersion != slices.Contains(tt.keys, "goVersion") {
				t.Errorf("Go version shown: %v, want %v", goVersion, !goVersion)
			}
		})
	}
}
