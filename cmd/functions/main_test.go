package main_test

import (
	"context"
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
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
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
