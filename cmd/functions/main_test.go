package main_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/devstack/stacktest"
	"github.com/8949market/market/shared/postgres"
	"github.com/8949market/market/shared/products"
	"github.com/8949market/market/shared/testenv"
)

// buildBinary compiles this command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "functions")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the binary with env and waits until its port accepts connections.
func start(t *testing.T, bin string, env []string) string {
	t.Helper()
	return startLogging(t, bin, env, os.Stderr)
}

// startLogging is start with the binary's output (stdout and stderr) written to out.
func startLogging(t *testing.T, bin string, env []string, out io.Writer) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn"), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("binary did not stop cleanly on SIGINT: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("binary did not stop within 10s of SIGINT")
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("binary not listening on %s", addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFunctionTargetServesExactlyOneFunction(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg, signer := testenv.Config(t)

	// A product to read, written through its domain store.
	seller := uuid.New()
	start0 := time.Now().Add(time.Hour)
	p, err := products.New(products.Draft{Name: ptr("Lamp"), Price: ptr(int64(5000)), StartTime: &start0, EndTime: ptr(start0.Add(time.Hour))}, seller, "seller", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Connect(context.Background(), cfg.DatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := products.NewStore(db).Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	base := start(t, bin, []string{
		"FUNCTION_TARGET=products-get",
		"DATABASE_URL=" + cfg.DatabaseURL,
		"JWT_PUBLIC_KEYS=" + cfg.JWTPublicKeys,
	})
	token, _, err := signer.Access(auth.Identity{UserID: uuid.New(), Username: "reader1", Nickname: "r", Role: auth.RoleUser}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		name, method, path, token string
		status                    int
		contains                  string
	}{
		{"its own route, full path", "GET", "/api/v1/products/" + p.ID.String(), token, 200, `"productId":"` + p.ID.String()},
		{"its own route without token", "GET", "/api/v1/products/" + p.ID.String(), "", 401, `"code":"C002"`},
		{"its route, another method", "DELETE", "/api/v1/products/" + p.ID.String(), token, 405, `"code":"C005"`},
		{"another function's route", "GET", "/api/v1/platform/info", token, 404, `"code":"C004"`},
		{"bare root", "GET", "/", token, 404, `"code":"C004"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := stacktest.Do(t, client, tt.method, base+tt.path, nil, tt.token)
			if res.Status != tt.status || !strings.Contains(string(res.Body), tt.contains) {
				t.Fatalf("status %d, want %d with %s: %s", res.Status, tt.status, tt.contains, res.Body)
			}
		})
	}
}

// A misconfigured service must fail at start, where Cloud Run shows it, not at its first
// request.
func TestFunctionTargetFailsFast(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg, _ := testenv.Config(t)
	tests := []struct {
		target, want string
	}{
		{"no-such-function", "not a function of this image"},
		// auth-login signs tokens: public keys alone are not enough.
		{"auth-login", "set JWT_SIGNING_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "FUNCTION_TARGET="+tt.target, "PORT="+strconv.Itoa(freePort(t)),
				"JWT_PUBLIC_KEYS="+cfg.JWTPublicKeys, "JWT_SIGNING_KEY=")
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("err %v, output %s", err, out)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A scheduled function's own service, as Cloud Run runs it (K_SERVICE set): a call
// without the delivery credential is refused and does not run the job; one with it runs;
// each request is one log line, and nothing else is written (the functions framework's
// empty flush lines would be empty log entries).
func TestInternalFunctionServiceAsOnCloudRun(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg, _ := testenv.Config(t)
	var out testenv.Output
	base := startLogging(t, bin, []string{
		"FUNCTION_TARGET=products-tick", "K_SERVICE=products-tick", "LOG_LEVEL=info",
		"DATABASE_URL=" + cfg.DatabaseURL, "JWT_PUBLIC_KEYS=" + cfg.JWTPublicKeys,
		"PUSH_AUTH=token", "PUSH_TOKEN=" + cfg.PushToken,
	}, &out)
	client := &http.Client{Timeout: 10 * time.Second}
	calls := []struct {
		name, query string
		status      int
	}{
		{"anonymous", "", 401},
		{"a wrong token", "?token=" + strings.Repeat("0", 64), 401},
		{"the scheduler's credential", "?token=" + cfg.PushToken, 200},
	}
	for _, c := range calls {
		res := stacktest.Do(t, client, "POST", base+"/"+c.query, nil, "")
		if res.Status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, res.Status, c.status, res.Body)
		}
	}
	var lines []string
	testenv.Eventually(t, 5*time.Second, "a log line per request", func() bool {
		lines = out.Lines()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, `"message":"request"`) {
				n++
			}
		}
		return n == len(calls)
	})
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			t.Fatalf("line %d is empty:\n%s", i+1, out.String())
		}
		if strings.Contains(l, cfg.PushToken) {
			t.Fatalf("line %d logs the delivery credential: %s", i+1, l)
		}
	}
}

// A binary that would serve internal endpoints without a way to verify their callers
// refuses to start, in both modes; a REST function's service needs none.
func TestNoInternalEndpointWithoutADeliveryCheck(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg, _ := testenv.Config(t)
	for _, target := range []string{"", "products-tick", "reservations-product-created"} {
		t.Run("target "+target, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "FUNCTION_TARGET="+target, "PORT="+strconv.Itoa(freePort(t)),
				"JWT_PUBLIC_KEYS="+cfg.JWTPublicKeys, "JWT_SIGNING_KEY="+cfg.JWTSigningKey, "PUSH_AUTH=")
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "set PUSH_AUTH") {
				t.Fatalf("err %v, output %s", err, out)
			}
		})
	}
}

// Without FUNCTION_TARGET (docker compose), every function of the image is served on one
// origin; its internal endpoints verify the caller like a service of their own, and the
// chat server's consumers are not this image's.
func TestAllInOneInternalEndpoints(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg, _ := testenv.Config(t)
	base := start(t, bin, []string{
		"FUNCTION_TARGET=", "DATABASE_URL=" + cfg.DatabaseURL, "JWT_PUBLIC_KEYS=" + cfg.JWTPublicKeys,
		"JWT_SIGNING_KEY=" + cfg.JWTSigningKey, "PUSH_AUTH=token", "PUSH_TOKEN=" + cfg.PushToken,
		// The photo functions refuse to start without their buckets (registry.Servable).
		"STORAGE_DIR=" + cfg.StorageDir, "STORAGE_SIGNING_KEY=" + cfg.StorageSigningKey,
	})
	client := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		name, path string
		status     int
	}{
		{"a job, anonymous", "/internal/functions/products-tick", 401},
		{"a job, a wrong token", "/internal/functions/products-tick?token=" + strings.Repeat("0", 64), 401},
		{"a job, the credential", "/internal/functions/products-tick?token=" + cfg.PushToken, 200},
		{"a consumer, anonymous", "/internal/functions/products-product-failed", 401},
		{"the chat server's consumer", "/internal/functions/chat-trade-created?token=" + cfg.PushToken, 404},
		{"health", "/healthz", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := "POST"
			if tt.path == "/healthz" {
				method = "GET"
			}
			if res := stacktest.Do(t, client, method, base+tt.path, nil, ""); res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
		})
	}
}
