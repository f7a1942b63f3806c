// Package fault defines the errors a request can end with: a kind that decides the HTTP
// status, a stable code from the catalogue (U0xx, P0xx, R0xx, T0xx, C0xx, CH0xx), a message
// for people and, where one field is to blame, its name.
//
// Domain packages return faults; the HTTP layer maps them to a response in one place
// (package api). A fault never carries internal detail: wrap the cause with Wrap so it is
// logged, not shown.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies a fault; each kind is one HTTP status.
type Kind int

// The kinds, in the order of the statuses they map to.
const (
	Invalid          Kind = iota + 1 // 400: the request is wrong
	Unauthenticated                  // 401: no or bad credentials
	Forbidden                        // 403: known caller, not allowed
	NotFound                         // 404
	MethodNotAllowed                 // 405
	Conflict                         // 409: the state does not allow it
	TooLarge                         // 413
	UnsupportedMedia                 // 415
	Unprocessable                    // 422: well-formed, semantically refused
	TooMany                          // 429
	Internal                         // 500
	Unavailable                      // 503: a dependency is down; retry later
)

// Error is a fault: a kind, a code and a message safe to show to the caller.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Field names the input field at fault, if any.
	Field string
	// RetryAfter, for TooMany and Unavailable, tells the caller when to come back (seconds).
	RetryAfter int
	// cause is logged, never shown.
	cause error
}

func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Field != "" {
		msg += " (" + e.Field + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is a fault with the same code, so errors.Is works against
// the named faults of a domain package.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// New returns a fault.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// OnField returns a copy of e naming the field at fault.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithMessage returns a copy of e with a more specific message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Wrap returns a copy of e that carries cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// As returns the fault in err's chain, if there is one.
func As(err error) (*Error, bool) {
	var f *Error
	if errors.As(err, &f) {
		return f, true
	}
	return nil, false
}

// The common catalogue (codes C001–C007 are the original's; C008 on are ours). One code per
// meaning: ErrUnavailable is any dependency that cannot be reached (Redis, PostgreSQL, the
// chat server), whatever the dependency.
var (
	ErrValidation       = New(Invalid, "C001", "validation failed")
	ErrUnauthenticated  = New(Unauthenticated, "C002", "authentication required")
	ErrForbidden        = New(Forbidden, "C003", "access denied")
	ErrNotFound         = New(NotFound, "C004", "not found")
	ErrMethodNotAllowed = New(MethodNotAllowed, "C005", "method not allowed")
	ErrInternal         = New(Internal, "C006", "internal error")
	ErrTimeout          = New(Unavailable, "C007", "upstream timed out")
	ErrMalformedJSON    = New(Invalid, "C008", "request body is not valid JSON")
	ErrUnknownField     = New(Invalid, "C009", "unknown field")
	ErrWrongType        = New(Invalid, "C010", "field has the wrong type")
	ErrBodyTooLarge     = New(TooLarge, "C011", "request body too large")
	ErrMediaType        = New(UnsupportedMedia, "C012", "content type must be application/json")
	ErrRateLimited      = New(TooMany, "C013", "too many requests")
	ErrUnavailable      = New(Unavailable, "C014", "service temporarily unavailable")
	ErrBadParameter     = New(Invalid, "C015", "invalid parameter")
	// ErrText refuses text PostgreSQL cannot store or that would be silently altered:
	// invalid UTF-8, a NUL character or an unpaired UTF-16 surrogate escape, wherever it
	// comes in (a body field, a query or path parameter, a chat frame).
	ErrText = New(Invalid, "C016", "text must be valid UTF-8 without NUL characters")
	// ErrMalformedEvent refuses a delivery to an event function that is not a CloudEvent of
	// the platform: no CloudEvent at all, data that is not JSON or not the event's shape,
	// an id that is not a UUID. A 4xx, so the push subscription or bridge retries it to
	// its dead-letter topic rather than acknowledging it.
	ErrMalformedEvent = New(Invalid, "C017", "event is malformed")
)
