// Package stacktest starts the whole platform in-process for end-to-end tests, on an
// isolated database, and talks to it over HTTP exactly as a client does.
//
//	st := stacktest.Start(t)
//	token, _ := st.Token(t, auth.RoleUser)
//	res := st.Do(t, "POST", "/api/v1/products", body, token)
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/testenv"
)

// Stack is a running platform for one test.
type Stack struct {
	*devstack.Stack
	Config config.Config
	Signer *auth.Signer
	client *http.Client
}

// Start runs the platform on free ports and an isolated database, waits for /healthz,
// and stops it when the test ends.
func Start(t testing.TB) *Stack {
	t.Helper()
	cfg, signer := testenv.Config(t)
	return StartWith(t, cfg, signer)
}

// StartWith is Start with a configuration of the test's making.
func StartWith(t testing.TB, cfg config.Config, signer *auth.Signer) *Stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ds, err := devstack.Start(ctx, devstack.Options{Config: cfg, Listen: "127.0.0.1:0", ChatListen: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatalf("stacktest: start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- ds.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stacktest: stop: %v", err)
		}
	})
	s := &Stack{Stack: ds, Config: cfg, Signer: signer, client: &http.Client{Timeout: 30 * time.Second}}
	s.waitHealthy(t)
	return s
}

func (s *Stack) waitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := s.client.Get(s.URL + "/healthz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stacktest: /healthz not ready in time (last error %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Token mints an access token for a new user with role, as the auth functions would.
func (s *Stack) Token(t testing.TB, role auth.Role) (string, auth.Identity) {
	t.Helper()
	id := uuid.New()
	token, who, err := s.Signer.Access(auth.Identity{
		UserID:   id,
		Username: "u" + id.String()[:8],
		Nickname: "nick" + id.String()[:6],
		Role:     role,
	}, 15*time.Minute)
	if err != nil {
		t.Fatalf("stacktest: token: %v", err)
	}
	return token, who
}

// Response is an HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request to the stack's API origin. body may be nil, a string or []byte (sent
// as is), or any value (sent as JSON); token, if not empty, goes in Authorization.
func (s *Stack) Do(t testing.TB, method, path string, body any, token string) Response {
	t.Helper()
	return Do(t, s.client, method, s.URL+path, body, token)
}

// Do sends one request with client; Stack.Do is the usual way in.
func Do(t testing.TB, client *http.Client, method, url string, body any, token string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("stacktest: marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("stacktest: request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("stacktest: %s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("stacktest: read body: %v", err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// Data decodes the success envelope's data into v, failing the test if the answer is not
// a success envelope.
func (r Response) Data(t testing.TB, v any) {
	t.Helper()
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		TraceID string          `json:"traceId"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || !env.Success || env.TraceID == "" {
		t.Fatalf("not a success envelope (status %d): %s", r.Status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(env.Data, v); err != nil {
			t.Fatalf("decode data: %v: %s", err, env.Data)
		}
	}
}

// Error decodes the error body, failing the test if the answer is not one.
func (r Response) Error(t testing.TB) api.ErrorBody {
	t.Helper()
	var body api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Code == "" {
		t.Fatalf("not an error body (status %d): %s", r.Status, r.Body)
	}
	return body
}
