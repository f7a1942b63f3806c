package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/8949market/market/shared/fault"
)

// Decode reads the request body into dst strictly: the content type, if given, must be
// JSON; the body at most maxBytes; exactly one JSON value; no unknown fields; every field
// of the right type; every string, at any depth, valid UTF-8 without NUL. Every refusal is
// a 4xx fault with its own code and, where it can tell, the field.
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fault.ErrMediaType
		}
	}
	// Read whole (it is bounded): the text check needs the raw bytes, because
	// encoding/json replaces invalid UTF-8 with U+FFFD silently.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeFault(err)
		}
		return fault.ErrMalformedJSON.WithMessage("request body could not be read").Wrap(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeFault(err)
	}
	// One value only: trailing data is as malformed as a broken value.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return fault.ErrMalformedJSON.WithMessage("request body must hold a single JSON value")
	}
	return checkJSONText(raw)
}

func decodeFault(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return fault.ErrBodyTooLarge.WithMessage("request body exceeds %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return fault.ErrMalformedJSON.WithMessage("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax):
		return fault.ErrMalformedJSON.Wrap(err)
	case errors.As(err, &wrongType):
		want := jsonKind(wrongType.Type.Kind().String())
		if wrongType.Field == "" {
			return fault.ErrWrongType.WithMessage("request body must be %s", want)
		}
		return fault.ErrWrongType.WithMessage("%s must be %s", wrongType.Field, want).OnField(wrongType.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the message format is stable.
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.ErrUnknownField.WithMessage("unknown field %q", field).OnField(field)
	default:
		// A field's own UnmarshalJSON failed (a bad time or uuid): the value has the
		// wrong form for its type.
		return fault.ErrWrongType.WithMessage("invalid value: %s", strings.TrimPrefix(err.Error(), "json: ")).Wrap(err)
	}
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	default:
		return "a " + kind
	}
}
