package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// errorBody mirrors the documented error body exactly; decoding with
// DisallowUnknownFields makes any extra key a failure.
type errorBody struct {
	Status    int     `json:"status"`
	Code      string  `json:"code"`
	Error     string  `json:"error"`
	Message   string  `json:"message"`
	Field     *string `json:"field"`
	TraceID   string  `json:"traceId"`
	Timestamp string  `json:"timestamp"`
}

var errorBodyKeys = []string{"code", "error", "field", "message", "status", "timestamp", "traceId"}

// tracedRequest returns a request whose context carries a fixed trace.
func tracedRequest(t *testing.T, method string) (*http.Request, tracedID) {
	t.Helper()
	req := httptest.NewRequest(method, "/things", nil)
	ctx := telemetry.WithTraceparent(req.Context(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return req.WithContext(ctx), tracedID{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
}

type tracedID struct{ TraceID string }

// keysOf returns the sorted top-level keys of a JSON object.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decodeErrorBody strictly decodes an error body and checks its key set and timestamp.
func decodeErrorBody(t *testing.T, raw []byte) errorBody {
	t.Helper()
	if got := keysOf(t, raw); !slices.Equal(got, errorBodyKeys) {
		t.Fatalf("error body keys = %v, want %v", got, errorBodyKeys)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b errorBody
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("decode error body: %v: %s", err, raw)
	}
	if _, err := time.Parse(time.RFC3339, b.Timestamp); err != nil {
		t.Errorf("timestamp %q is not RFC 3339: %v", b.Timestamp, err)
	}
	return b
}

func assertJSONContentType(t *testing.T, h http.Header) {
	t.Helper()
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

func TestSuccessEnvelope(t *testing.T) {
	t.Parallel()
	type item struct {
		ID    string `json:"id"`
		Price int64  `json:"price"`
	}
	tests := []struct {
		name       string
		write      func(http.ResponseWriter, *http.Request)
		wantStatus int
		wantData   string
	}{
		{
			name:       "OK",
			write:      func(w http.ResponseWriter, r *http.Request) { api.OK(w, r, item{ID: "a", Price: 12}) },
			wantStatus: http.StatusOK,
			wantData:   `{"id":"a","price":12}`,
		},
		{
			name:       "Created",
			write:      func(w http.ResponseWriter, r *http.Request) { api.Created(w, r, []int{1, 2}) },
			wantStatus: http.StatusCreated,
			wantData:   `[1,2]`,
		},
		{
			name:       "JSON with explicit status",
			write:      func(w http.ResponseWriter, r *http.Request) { api.JSON(w, r, http.StatusAccepted, "queued") },
			wantStatus: http.StatusAccepted,
			wantData:   `"queued"`,
		},
		{
			name:       "nil data is null",
			write:      func(w http.ResponseWriter, r *http.Request) { api.OK(w, r, nil) },
			wantStatus: http.StatusOK,
			wantData:   `null`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, tr := tracedRequest(t, http.MethodGet)
			rec := httptest.NewRecorder()
			tc.write(rec, req)

			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			assertJSONContentType(t, rec.Header())
			raw := rec.Body.Bytes()
			if got, want := keysOf(t, raw), []string{"data", "success", "traceId"}; !slices.Equal(got, want) {
				t.Fatalf("envelope keys = %v, want %v", got, want)
			}
			var env struct {
				Success json.RawMessage `json:"success"`
				Data    json.RawMessage `json:"data"`
				TraceID string          `json:"traceId"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatalf("decode envelope: %v", err)
			}
			if string(env.Success) != "true" {
				t.Errorf("success = %s, want true", env.Success)
			}
			if string(env.Data) != tc.wantData {
				t.Errorf("data = %s, want %s", env.Data, tc.wantData)
			}
			if env.TraceID != tr.TraceID {
				t.Errorf("traceId = %q, want %q", env.TraceID, tr.TraceID)
			}
		})
	}
}

func TestSuccessEnvelopeWithoutTrace(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	api.OK(rec, httptest.NewRequest(http.MethodGet, "/", nil), 1)
	var env api.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if env.TraceID != "" || !env.Success {
		t.Errorf("envelope = %+v, want success with empty traceId", env)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind fault.Kind
		want int
	}{
		{fault.Invalid, http.StatusBadRequest},
		{fault.Unauthenticated, http.StatusUnauthorized},
		{fault.Forbidden, http.StatusForbidden},
		{fault.NotFound, http.StatusNotFound},
		{fault.MethodNotAllowed, http.StatusMethodNotAllowed},
		{fault.Conflict, http.StatusConflict},
		{fault.TooLarge, http.StatusRequestEntityTooLarge},
		{fault.UnsupportedMedia, http.StatusUnsupportedMediaType},
		{fault.Unprocessable, http.StatusUnprocessableEntity},
		{fault.TooMany, http.StatusTooManyRequests},
		{fault.Internal, http.StatusInternalServerError},
		{fault.Unavailable, http.StatusServiceUnavailable},
		{fault.Kind(0), http.StatusInternalServerError},
		{fault.Kind(99), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.kind), func(t *testing.T) {
			t.Parallel()
			if got := api.Status(tc.kind); got != tc.want {
				t.Errorf("Status(%d) = %d, want %d", tc.kind, got, tc.want)
			}
		})
	}
}

func TestFailFaultBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantCode    string
		wantError   string
		wantMessage string
		wantField   *string
	}{
		{"invalid", fault.ErrValidation, 400, "C001", "BAD_REQUEST", "validation failed", nil},
		{"unauthenticated", fault.ErrUnauthenticated, 401, "C002", "UNAUTHORIZED", "authentication required", nil},
		{"forbidden", fault.ErrForbidden, 403, "C003", "FORBIDDEN", "access denied", nil},
		{"not found", fault.ErrNotFound, 404, "C004", "NOT_FOUND", "not found", nil},
		{"method not allowed", fault.ErrMethodNotAllowed, 405, "C005", "METHOD_NOT_ALLOWED", "method not allowed", nil},
		{"conflict", fault.New(fault.Conflict, "P009", "already sold"), 409, "P009", "CONFLICT", "already sold", nil},
		{"too large", fault.ErrBodyTooLarge, 413, "C011", "REQUEST_ENTITY_TOO_LARGE", "request body too large", nil},
		{"unsupported media", fault.ErrMediaType, 415, "C012", "UNSUPPORTED_MEDIA_TYPE", "content type must be application/json", nil},
		{"unprocessable", fault.New(fault.Unprocessable, "R004", "cannot review own listing"), 422, "R004", "UNPROCESSABLE_ENTITY", "cannot review own listing", nil},
		{"too many", fault.ErrRateLimited, 429, "C013", "TOO_MANY_REQUESTS", "too many requests", nil},
		{"internal", fault.ErrInternal, 500, "C006", "INTERNAL_SERVER_ERROR", "internal error", nil},
		{"unavailable", fault.ErrUnavailable, 503, "C014", "SERVICE_UNAVAILABLE", "service temporarily unavailable", nil},
		{"zero kind", &fault.Error{Code: "X001", Message: "odd"}, 500, "X001", "INTERNAL_SERVER_ERROR", "odd", nil},
		{
			name:        "on field",
			err:         fault.ErrValidation.WithMessage("price must be positive").OnField("price"),
			wantStatus:  400,
			wantCode:    "C001",
			wantError:   "BAD_REQUEST",
			wantMessage: "price must be positive",
			wantField:   new("price"),
		},
		{
			name:        "wrapped fault keeps its code",
			err:         fmt.Errorf("load listing: %w", fault.ErrNotFound.OnField("id")),
			wantStatus:  404,
			wantCode:    "C004",
			wantError:   "NOT_FOUND",
			wantMessage: "not found",
			wantField:   new("id"),
		},
		{
			name:        "doubly wrapped fault keeps its code",
			err:         fmt.Errorf("a: %w", fmt.Errorf("b: %w", fault.ErrForbidden)),
			wantStatus:  403,
			wantCode:    "C003",
			wantError:   "FORBIDDEN",
			wantMessage: "access denied",
		},
		{
			name:        "fault with a cause does not show the cause",
			err:         fault.ErrUnavailable.Wrap(errors.New("dial tcp 10.0.0.7:5432: connection refused")),
			wantStatus:  503,
			wantCode:    "C014",
			wantError:   "SERVICE_UNAVAILABLE",
			wantMessage: "service temporarily unavailable",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, tr := tracedRequest(t, http.MethodPost)
			rec := httptest.NewRecorder()
			api.Fail(rec, req, tc.err)

			if rec.Code != tc.wantStatus {
				t.Errorf("HTTP status = %d, want %d", rec.Code, tc.wantStatus)
			}
			assertJSONContentType(t, rec.Header())
			if got := rec.Header().Get("Retry-After"); got != "" {
				t.Errorf("Retry-After = %q, want unset", got)
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			want := errorBody{
				Status:    tc.wantStatus,
				Code:      tc.wantCode,
				Error:     tc.wantError,
				Message:   tc.wantMessage,
				Field:     tc.wantField,
				TraceID:   tr.TraceID,
				Timestamp: b.Timestamp,
			}
			if !reflect.DeepEqual(b, want) {
				t.Errorf("body = %s\nwant   %s", show(b), show(want))
			}
		})
	}
}

func TestFailFieldNullWhenUnset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no field", fault.ErrNotFound, `null`},
		{"field", fault.ErrWrongType.OnField("nested.n"), `"nested.n"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			api.Fail(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.err)
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			got, ok := m["field"]
			if !ok {
				t.Fatalf("body has no field key: %s", rec.Body)
			}
			if string(got) != tc.want {
				t.Errorf("field = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestFailNonFaultErrors(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantStatus int
		wantCode   string
		wantError  string
		secret     string // must not leak into the body
	}{
		{
			name:       "plain error is 500 C006",
			ctx:        context.Background(),
			err:        errors.New("pq: password authentication failed for user \"market\""),
			wantStatus: 500,
			wantCode:   "C006",
			wantError:  "INTERNAL_SERVER_ERROR",
			secret:     "password authentication failed",
		},
		{
			name:       "wrapped plain error is 500 C006",
			ctx:        context.Background(),
			err:        fmt.Errorf("query listings: %w", errors.New("relation \"listings\" does not exist")),
			wantStatus: 500,
			wantCode:   "C006",
			wantError:  "INTERNAL_SERVER_ERROR",
			secret:     "relation",
		},
		{
			name:       "deadline exceeded is 503 C007",
			ctx:        context.Background(),
			err:        context.DeadlineExceeded,
			wantStatus: 503,
			wantCode:   "C007",
			wantError:  "SERVICE_UNAVAILABLE",
		},
		{
			name:       "wrapped deadline exceeded is 503 C007",
			ctx:        context.Background(),
			err:        fmt.Errorf("call stripe at https://api.internal/x: %w", context.DeadlineExceeded),
			wantStatus: 503,
			wantCode:   "C007",
			wantError:  "SERVICE_UNAVAILABLE",
			secret:     "api.internal",
		},
		{
			name:       "canceled with the request gone is 503 C014",
			ctx:        canceled,
			err:        fmt.Errorf("query: %w", context.Canceled),
			wantStatus: 503,
			wantCode:   "C014",
			wantError:  "SERVICE_UNAVAILABLE",
		},
		// A database out of reach answers 503 C014, like any dependency; the body says no more.
		{name: "pgx could not connect", ctx: context.Background(), err: fmt.Errorf("find product: %w", connectError()), wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE", secret: "127.0.0.1"},
		{name: "server shutting down 57P01", ctx: context.Background(), err: fmt.Errorf("tx: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}), wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE", secret: "administrator"},
		{name: "server crashed 57P02", ctx: context.Background(), err: &pgconn.PgError{Code: "57P02"}, wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		{name: "server starting 57P03", ctx: context.Background(), err: &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE", secret: "starting up"},
		{name: "connection failure 08006", ctx: context.Background(), err: &pgconn.PgError{Code: "08006"}, wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		{name: "no connection slot 53300", ctx: context.Background(), err: &pgconn.PgError{Code: "53300"}, wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		{name: "connection closed under the query", ctx: context.Background(), err: fmt.Errorf("apply: %w", pgconn.ErrConnClosed), wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		{name: "socket ended mid-result", ctx: context.Background(), err: fmt.Errorf("list: %w", io.ErrUnexpectedEOF), wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		{name: "network operation failed", ctx: context.Background(), err: fmt.Errorf("redis: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), wantStatus: 503, wantCode: "C014", wantError: "SERVICE_UNAVAILABLE"},
		// PostgreSQL refusing text is the client's fault, never a 500.
		{name: "NUL refused by PostgreSQL 22021", ctx: context.Background(), err: fmt.Errorf("insert: %w", &pgconn.PgError{Code: "22021", Message: "invalid byte sequence for encoding \"UTF8\": 0x00"}), wantStatus: 400, wantCode: "C016", wantError: "BAD_REQUEST", secret: "0x00"},
		// Other PostgreSQL errors remain bugs.
		{name: "unique violation is 500 C006", ctx: context.Background(), err: &pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}, wantStatus: 500, wantCode: "C006", wantError: "INTERNAL_SERVER_ERROR", secret: "duplicate"},
		{
			name:       "canceled with the request alive is 500 C006",
			ctx:        context.Background(),
			err:        fmt.Errorf("worker stopped: %w", context.Canceled),
			wantStatus: 500,
			wantCode:   "C006",
			wantError:  "INTERNAL_SERVER_ERROR",
			secret:     "worker stopped",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tracedID{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
			req := httptest.NewRequestWithContext(telemetry.WithTraceparent(tc.ctx, "00-"+tr.TraceID+"-00f067aa0ba902b7-01"), http.MethodGet, "/", nil)
			rec := httptest.NewRecorder()
			api.Fail(rec, req, tc.err)

			if rec.Code != tc.wantStatus {
				t.Errorf("HTTP status = %d, want %d", rec.Code, tc.wantStatus)
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			if b.Status != tc.wantStatus || b.Code != tc.wantCode || b.Error != tc.wantError {
				t.Errorf("body status/code/error = %d/%s/%s, want %d/%s/%s",
					b.Status, b.Code, b.Error, tc.wantStatus, tc.wantCode, tc.wantError)
			}
			if b.Message == "" {
				t.Error("message is empty")
			}
			if b.Field != nil {
				t.Errorf("field = %q, want null", *b.Field)
			}
			if b.TraceID != tr.TraceID {
				t.Errorf("traceId = %q, want %q", b.TraceID, tr.TraceID)
			}
			if tc.secret != "" && strings.Contains(rec.Body.String(), tc.secret) {
				t.Errorf("body leaks internal detail %q: %s", tc.secret, rec.Body)
			}
			if strings.Contains(b.Message, tc.err.Error()) {
				t.Errorf("message %q contains the internal error text", b.Message)
			}
		})
	}
}

// connectError is what pgx answers when nothing listens where the database should be.
func connectError() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	_ = ln.Close() // now nothing listens there
	_, err = pgconn.Connect(context.Background(), "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=5")
	return err
}

func TestFailRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantHeader string
	}{
		{"rate limited", &fault.Error{Kind: fault.TooMany, Code: "C013", Message: "slow down", RetryAfter: 30}, 429, "30"},
		{"unavailable", &fault.Error{Kind: fault.Unavailable, Code: "C014", Message: "later", RetryAfter: 5}, 503, "5"},
		{"wrapped", fmt.Errorf("limiter: %w", &fault.Error{Kind: fault.TooMany, Code: "C013", Message: "x", RetryAfter: 1}), 429, "1"},
		{"zero sets no header", fault.ErrRateLimited, 429, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			api.Fail(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.err)
			if rec.Code != tc.wantStatus {
				t.Errorf("HTTP status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.wantHeader {
				t.Errorf("Retry-After = %q, want %q", got, tc.wantHeader)
			}
			b := decodeErrorBody(t, rec.Body.Bytes())
			if b.Status != tc.wantStatus {
				t.Errorf("body status = %d, want %d", b.Status, tc.wantStatus)
			}
		})
	}
}

func show(b errorBody) string {
	field := "null"
	if b.Field != nil {
		field = *b.Field
	}
	return fmt.Sprintf("{status:%d code:%s error:%s message:%q field:%s traceId:%s}",
		b.Status, b.Code, b.Error, b.Message, field, b.TraceID)
}
