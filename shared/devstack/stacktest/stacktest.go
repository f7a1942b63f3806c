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
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/auth"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/devstack"
	"github.com/8949market/market/shared/openapi/openapitest"
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
	if cfg.BootstrapAdminUsername == "" {
		cfg.BootstrapAdminUsername = "root" + uuid.NewString()[:8]
		cfg.BootstrapAdminPassword = "Pw!" + uuid.NewString()[:16]
	}
	ctx, cancel := context.WithCancel(context.Background())
	ds, err := devstack.Start(ctx, devstack.Options{Config: cfg, Listen: "127.0.0.1:0", ChatListen: "127.0.0.1:0", NoSchedules: true})
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

// DoWith is Do with extra request headers (a browser's Origin, a preflight's
// Access-Control-Request-*), set after the body's Content-Type and the token.
func (s *Stack) DoWith(t testing.TB, method, path string, header http.Header, body any, token string) Response {
	t.Helper()
	return do(t, s.client, method, s.URL+path, header, body, token)
}

// Do sends one request with client; Stack.Do is the usual way in.
func Do(t testing.TB, client *http.Client, method, url string, body any, token string) Response {
	t.Helper()
	return do(t, client, method, url, nil, body, token)
}

func do(t testing.TB, client *http.Client, method, url string, header http.Header, body any, token string) Response {
	t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		sent = []byte(b)
	case []byte:
		sent = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("stacktest: marshal body: %v", err)
		}
		sent = raw
	}
	if body != nil {
		rd = bytes.NewReader(sent)
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
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
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
	// Every exchange is held to the API reference (the contract tests).
	if err := openapitest.Check(req, sent, res.StatusCode, res.Header, raw); err != nil {
		t.Error(err)
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

// Refused decodes the error body, failing the test unless the answer is one with status
// and code.
func (r Response) Refused(t testing.TB, status int, code string) api.ErrorBody {
	t.Helper()
	e := r.Error(t)
	if r.Status != status || e.Code != code {
		t.Fatalf("status %d code %s, want %d %s: %s", r.Status, e.Code, status, code, r.Body)
	}
	return e
}

// RefusedOn is Refused that also checks the field named at fault; an empty field accepts
// any.
func (r Response) RefusedOn(t testing.TB, status int, code, field string) api.ErrorBody {
	t.Helper()
	e := r.Refused(t, status, code)
	if field != "" && (e.Field == nil || *e.Field != field) {
		t.Errorf("field = %v, want %q: %s", e.Field, field, r.Body)
	}
	return e
}

// User is an account created through the API, with the tokens of its first login.
type User struct {
	ID       uuid.UUID
	Username string
	Password string
	Role     auth.Role
	Access   string
	Refresh  string
}

// Pair is a login or reissue answer.
type Pair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
}

// Admin logs in as the stack's bootstrap MASTER.
func (s *Stack) Admin(t testing.TB) User {
	t.Helper()
	u := User{Username: s.Config.BootstrapAdminUsername, Password: s.Config.BootstrapAdminPassword, Role: auth.RoleMaster}
	p := s.Login(t, u.Username, u.Password)
	u.Access, u.Refresh = p.AccessToken, p.RefreshToken
	var me struct {
		UserID uuid.UUID `json:"userId"`
	}
	s.Do(t, "GET", "/api/v1/users/me", nil, u.Access).Data(t, &me)
	u.ID = me.UserID
	return u
}

// NewUser signs up a fresh account with role (an administrator role is created with the
// bootstrap MASTER's token) and logs it in.
func (s *Stack) NewUser(t testing.TB, role auth.Role) User {
	t.Helper()
	suffix := uuid.NewString()
	u := User{Username: "u" + suffix[:8] + suffix[9:12], Password: "Secret!" + suffix[:8], Role: role}
	token := ""
	if role != auth.RoleUser {
		token = s.Admin(t).Access
	}
	res := s.Do(t, "POST", "/api/v1/auth/signup", map[string]any{
		"username": u.Username, "password": u.Password, "userRole": string(role),
		"name": "Tester", "nickname": "nick" + suffix[:6],
		"chatTimeRanges": []map[string]string{{"dayOfWeek": "MONDAY", "startTime": "09:00", "endTime": "18:00"}},
	}, token)
	if res.Status != http.StatusCreated {
		t.Fatalf("stacktest: signup %s: status %d: %s", u.Username, res.Status, res.Body)
	}
	var created struct {
		UserID uuid.UUID `json:"userId"`
	}
	res.Data(t, &created)
	u.ID = created.UserID
	p := s.Login(t, u.Username, u.Password)
	u.Access, u.Refresh = p.AccessToken, p.RefreshToken
	return u
}

// Login logs in and fails the test unless it succeeds.
func (s *Stack) Login(t testing.TB, username, password string) Pair {
	t.Helper()
	res := s.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password}, "")
	if res.Status != http.StatusOK {
		t.Fatalf("stacktest: login %s: status %d: %s", username, res.Status, res.Body)
	}
	var p Pair
	res.Data(t, &p)
	return p
}

// Quiet keeps the stack's request logs out of a benchmark's table: only warnings and
// errors are logged until the benchmark ends. It changes the process-wide logger, so only
// benchmarks (which never run in parallel with tests) use it.
func Quiet(b *testing.B) {
	b.Helper()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	b.Cleanup(func() { slog.SetDefault(prev) })
}

// Deliver posts data (as JSON) to an event function through the stack as a binary-mode
// CloudEvent with id, topic and source, the way the push bridge delivers it, and returns
// the HTTP status. It needs no testing.TB, so goroutines delivering at once may call it.
func (s *Stack) Deliver(function, topic, source string, id uuid.UUID, data any) (int, error) {
	req, err := EventRequest(context.Background(), s.InternalURL(function), topic, source, id, data)
	if err != nil {
		return 0, err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver %s to %s: %w", topic, function, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// EventRequest is a delivery of data (as JSON) to url as a binary-mode CloudEvent with id,
// topic and source, the way Pub/Sub push and the bridge deliver: tests send it to any
// internal endpoint, with or without a credential.
func EventRequest(ctx context.Context, url, topic, source string, id uuid.UUID, data any) (*http.Request, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id.String())
	req.Header.Set("ce-type", topic)
	req.Header.Set("ce-source", source)
	return req, nil
}
