// Package api is the HTTP contract every function speaks (docs/design.md §4): the success
// envelope, the error body, strict JSON decoding and the per-request instrumentation.
// It is the one place where a fault becomes an HTTP status.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/telemetry"
)

// Envelope is the body of every successful response.
type Envelope struct {
	Success bool   `json:"success"`
	Data    any    `json:"data"`
	TraceID string `json:"traceId"`
}

// ErrorBody is the body of every failed response.
type ErrorBody struct {
	Status    int     `json:"status"`
	Code      string  `json:"code"`
	Error     string  `json:"error"`
	Message   string  `json:"message"`
	Field     *string `json:"field"`
	TraceID   string  `json:"traceId"`
	Timestamp string  `json:"timestamp"`
}

// JSON writes data in the success envelope with the given status.
func JSON(w http.ResponseWriter, r *http.Request, status int, data any) {
	write(w, status, Envelope{Success: true, Data: data, TraceID: telemetry.TraceID(r.Context())})
}

// OK writes data in the success envelope with status 200.
func OK(w http.ResponseWriter, r *http.Request, data any) { JSON(w, r, http.StatusOK, data) }

// Created writes data in the success envelope with status 201.
func Created(w http.ResponseWriter, r *http.Request, data any) {
	JSON(w, r, http.StatusCreated, data)
}

// Fail writes err as the error body. A fault answers with its own status and code; any
// other error is classified (Classify: a dependency out of reach is 503 C014) and logged
// with its cause, and the body carries no detail.
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	f := Classify(ctx, err)
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil && f.Code == fault.ErrUnavailable.Code:
		// The client went away; nobody reads this answer.
	case f.Code == fault.ErrTimeout.Code:
		slog.WarnContext(ctx, "request timed out", "error", err.Error())
	case f.Kind == fault.Internal || f.Kind == fault.Unavailable:
		slog.ErrorContext(ctx, "request failed", "code", f.Code, "error", err.Error())
	case f.Code == fault.ErrText.Code && !isFault(err):
		// The database refused text an input check should have: find the input.
		slog.WarnContext(ctx, "text refused by the database, not by an input check", "error", err.Error())
	}
	status := Status(f.Kind)
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	body := ErrorBody{
		Status:    status,
		Code:      f.Code,
		Error:     StatusName(status),
		Message:   f.Message,
		TraceID:   telemetry.TraceID(ctx),
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
	}
	if f.Field != "" {
		field := f.Field
		body.Field = &field
	}
	write(w, status, body)
}

func isFault(err error) bool {
	_, ok := fault.As(err)
	return ok
}

// Status is the HTTP status of a fault kind.
func Status(k fault.Kind) int {
	switch k {
	case fault.Invalid:
		return http.StatusBadRequest
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case fault.Conflict:
		return http.StatusConflict
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case fault.Unprocessable:
		return http.StatusUnprocessableEntity
	case fault.TooMany:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// StatusName is the status as an enum name, as the original's bodies carry it
// (404 → NOT_FOUND): the error body's "error".
func StatusName(status int) string {
	name := strings.ToUpper(http.StatusText(status))
	return strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(name)
}

func write(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		// Headers are gone; the client closed or the body cannot be encoded (a bug).
		slog.Warn("write response", "error", err.Error())
	}
}
