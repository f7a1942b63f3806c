package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/fault"
	"github.com/8949market/market/shared/objectevent"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/registry"
)

const eventID = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071"

// A delivery an event function cannot take answers with the REST error body and a status
// that is not 2xx, so the push subscription or the bridge retries it and then parks it on
// the dead-letter topic with that body as the reason: never a bare 500, never an ack.
func TestEventDeliveryAnswers(t *testing.T) {
	t.Parallel()
	type data struct {
		N  int       `json:"n"`
		ID uuid.UUID `json:"id"`
		At time.Time `json:"at"`
	}
	binary := func(h http.Header) {
		h.Set("Content-Type", "application/json")
		h.Set("ce-specversion", "1.0")
		h.Set("ce-id", eventID)
		h.Set("ce-type", "thing-happened")
		h.Set("ce-source", "test")
	}
	tests := []struct {
		name    string
		method  string
		header  func(http.Header)
		body    string
		fails   error // what the consumer returns
		status  int
		code    string
		field   string
		reaches bool // the consumer is called
	}{
		{name: "a good event is acknowledged", header: binary, body: `{"n":1}`, status: 200, reaches: true},
		{name: "structured mode", header: func(h http.Header) { h.Set("Content-Type", "application/cloudevents+json") },
			body: `{"specversion":"1.0","id":"` + eventID + `","type":"thing-happened","source":"test","datacontenttype":"application/json","data":{"n":1}}`, status: 200, reaches: true},

		// Not an event of the platform: refused before the consumer runs.
		{name: "not a CloudEvent", header: func(h http.Header) { h.Set("Content-Type", "text/plain") }, body: "hello", status: 400, code: "C017"},
		{name: "plain JSON, no CloudEvent attributes", header: func(h http.Header) { h.Set("Content-Type", "application/json") }, body: `{"n":1}`, status: 400, code: "C017"},
		{name: "structured mode, broken JSON", header: func(h http.Header) { h.Set("Content-Type", "application/cloudevents+json") }, body: `{"specversion":`, status: 400, code: "C017"},
		{name: "no type", header: func(h http.Header) { binary(h); h.Del("ce-type") }, body: `{"n":1}`, status: 400, code: "C017"},
		{name: "id not a UUID", header: func(h http.Header) { binary(h); h.Set("ce-id", "42") }, body: `{"n":1}`, status: 400, code: "C017", field: "id"},
		{name: "data not JSON", header: binary, body: `{"n":`, status: 400, code: "C017", field: "data"},
		{name: "no data", header: binary, body: ``, status: 400, code: "C017", field: "data"},

		// The consumer's error, classified as a REST error is.
		{name: "data of the wrong shape", header: binary, body: `[1,2]`, status: 400, code: "C017", field: "data", reaches: true},
		{name: "a field of the wrong type", header: binary, body: `{"n":"one"}`, status: 400, code: "C017", field: "data", reaches: true},
		{name: "a malformed UUID", header: binary, body: `{"id":"nope"}`, status: 400, code: "C017", field: "data", reaches: true},
		{name: "a malformed UUID of the right length", header: binary, body: `{"id":"0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f607z"}`, status: 400, code: "C017", field: "data", reaches: true},
		{name: "a malformed time", header: binary, body: `{"at":"yesterday"}`, status: 400, code: "C017", field: "data", reaches: true},
		{name: "data JSON with a charset", header: func(h http.Header) { binary(h); h.Set("Content-Type", "application/json; charset=utf-8") }, body: `{"n":`, status: 400, code: "C017", field: "data"},
		{name: "database out of reach", header: binary, body: `{"n":1}`, fails: fmt.Errorf("record inbox: %w", io.ErrUnexpectedEOF), status: 503, code: "C014", reaches: true},
		{name: "a fault keeps its code", header: binary, body: `{"n":1}`, fails: fault.ErrNotFound, status: 404, code: "C004", reaches: true},
		{name: "a bug is 500 C006 with a body", header: binary, body: `{"n":1}`, fails: errors.New("nil map"), status: 500, code: "C006", reaches: true},
		{name: "not POST", method: http.MethodGet, header: binary, status: 405, code: "C005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s registry.Set
			reached := false
			s.Event("products-thing", "thing-happened", func(*platform.Kit) registry.EventHandler {
				return func(_ context.Context, e cloudevents.Event) error {
					reached = true
					var d data
					if err := json.Unmarshal(e.Data(), &d); err != nil {
						return fmt.Errorf("products-thing: event %s: decode: %w", e.ID(), err)
					}
					return tt.fails
				}
			})
			fn, _ := s.Lookup("products-thing")
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/internal/functions/products-thing?token="+testPushToken, strings.NewReader(tt.body))
			tt.header(req.Header)
			rec := httptest.NewRecorder()
			fn.Handler(testKit(t)).ServeHTTP(rec, req)

			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if reached != tt.reaches {
				t.Errorf("consumer called: %v, want %v", reached, tt.reaches)
			}
			if tt.status == 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			var body api.ErrorBody
			dec := json.NewDecoder(rec.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("not an error body: %v", err)
			}
			if body.Status != tt.status || body.Code != tt.code || body.Message == "" || body.TraceID == "" {
				t.Errorf("body %+v, want status %d code %s with a message and trace id", body, tt.status, tt.code)
			}
			if got := ""; body.Field != nil || tt.field != "" {
				if body.Field != nil {
					got = *body.Field
				}
				if got != tt.field {
					t.Errorf("field = %q, want %q", got, tt.field)
				}
			}
		})
	}
}

// A Cloud Storage notification pushed by Pub/Sub without wrapper (its attributes as
// headers, the object as the body, no ce- attributes) reaches the consumer as the
// CloudEvent it stands for, the same id for a redelivery; a malformed one is refused as
// any malformed delivery is.
func TestStorageNoticeDelivery(t *testing.T) {
	t.Parallel()
	o := objectevent.Object{Bucket: "uploads", Name: uuid.NewString() + "/" + uuid.NewString(), Generation: "1733000000000001",
		ContentType: "image/jpeg", Size: "1234", TimeCreated: time.Now().UTC()}
	attrs, data, err := objectevent.Attributes(o, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	push := func(change func(h http.Header)) func(http.Header) {
		return func(h http.Header) {
			h.Set("Content-Type", "application/json")
			h.Set("x-goog-pubsub-message-id", "17")
			for k, v := range attrs {
				h.Set(k, v)
			}
			if change != nil {
				change(h)
			}
		}
	}
	var s registry.Set
	seen := make(chan cloudevents.Event, 8)
	s.Event("products-upload-finalized", "upload-finalized", func(*platform.Kit) registry.EventHandler {
		return func(_ context.Context, e cloudevents.Event) error {
			seen <- e
			return nil
		}
	})
	fn, _ := s.Lookup("products-upload-finalized")
	kit := testKit(t)
	deliver := func(header func(http.Header), body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/internal/functions/products-upload-finalized?token="+testPushToken, strings.NewReader(body))
		header(req.Header)
		rec := httptest.NewRecorder()
		fn.Handler(kit).ServeHTTP(rec, req)
		return rec
	}
	var ids []string
	for range 2 {
		if rec := deliver(push(nil), string(data)); rec.Code != http.StatusOK {
			t.Fatalf("notice: %d %s", rec.Code, rec.Body)
		}
		e := <-seen
		var got objectevent.Object
		if err := json.Unmarshal(e.Data(), &got); err != nil || got.Name != o.Name || e.Type() != objectevent.Type ||
			e.Subject() != "objects/"+o.Name || e.Source() != "//storage.googleapis.com/projects/_/buckets/uploads" {
			t.Errorf("event %s %s %s %s (%v)", e.Type(), e.Source(), e.Subject(), e.Data(), err)
		}
		ids = append(ids, e.ID())
	}
	if ids[0] != ids[1] {
		t.Errorf("a redelivered notice has id %s, then %s", ids[0], ids[1])
	}
	for _, tt := range []struct {
		name   string
		header func(http.Header)
		body   string
	}{
		{"another payload format", push(func(h http.Header) { h.Set("payloadFormat", "NONE") }), string(data)},
		{"no object id", push(func(h http.Header) { h.Del("objectId") }), string(data)},
		{"a bad event time", push(func(h http.Header) { h.Set("eventTime", "yesterday") }), string(data)},
		{"data not JSON", push(nil), `{"bucket":`},
	} {
		if rec := deliver(tt.header, tt.body); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"C017"`) {
			t.Errorf("%s: %d %s, want 400 C017", tt.name, rec.Code, rec.Body)
		}
	}
	if len(seen) != 0 {
		t.Errorf("%d malformed notices reached the consumer", len(seen))
	}
}
