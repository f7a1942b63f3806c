package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/8949market/market/shared/api"
	"github.com/8949market/market/shared/bus"
	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/platform"
	"github.com/8949market/market/shared/pushauth"
	"github.com/8949market/market/shared/registry"
)

const fuzzPushToken = "fuzz-0123456789abcdef0123456789ab"

// The seeds run as ordinary tests under make test; make fuzz mutates them (scripts/fuzz.sh).
//
// FuzzCloudEvent delivers any request to an event function as it is served (verified
// caller, instrumented): headers, one "Name: value" a line, and a body. Properties: the
// answer is 2xx exactly when the function received one event, and never a 5xx for what
// the function did not fail on (the fuzzed function never fails), so a malformed event is
// a 4xx; an event the function received is valid and, delivered again as the bridge
// delivers (binary mode, shared/bus.Deliver) or in structured mode, reaches the function
// as the same event.
func FuzzCloudEvent(f *testing.F) {
	// Every request is one access log line; a fuzzing run makes millions.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(prev) })

	var received []cloudevents.Event
	var s registry.Set
	s.Event("fuzz-consumer", "thing-happened", func(*platform.Kit) registry.EventHandler {
		return func(_ context.Context, e cloudevents.Event) error {
			received = append(received, e.Clone())
			return nil
		}
	})
	fn, _ := s.Lookup("fuzz-consumer")
	push, err := pushauth.New(f.Context(), config.Config{PushAuth: "token", PushToken: fuzzPushToken})
	if err != nil {
		f.Fatal(err)
	}
	h := fn.Handler(&platform.Kit{Push: push})
	deliver := func(req *http.Request) (*httptest.ResponseRecorder, []cloudevents.Event) {
		received = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec, received
	}

	const binary = "Content-Type: application/json\nCe-Specversion: 1.0\nCe-Id: 0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071\n" +
		"Ce-Type: thing-happened\nCe-Source: products\n"
	const structured = "Content-Type: application/cloudevents+json; charset=utf-8\n"
	event := func(fields string) []byte {
		return []byte(`{"specversion":"1.0","id":"0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071","type":"thing-happened","source":"products"` + fields + `}`)
	}
	for _, seed := range []struct {
		headers string
		body    []byte
	}{
		// Valid: binary mode as the bridge and Pub/Sub push send it, and structured mode.
		{binary + "Ce-Subject: 42\nCe-Time: 2030-01-02T03:04:05.123456789Z\nCe-Traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n", []byte(`{"productId":"42"}`)},
		{binary + "Ce-Deadletterreason: consumer x: status 500\n", []byte(`{}`)},
		{binary, nil},
		{strings.Replace(binary, "Content-Type: application/json", "Content-Type: application/octet-stream", 1), []byte("\x00\xff\xfe binary")},
		{strings.Replace(binary, "1.0", "0.3", 1), []byte(`[]`)},
		{structured, event(`,"subject":"42","time":"2030-01-02T03:04:05+09:00","datacontenttype":"application/json","data":{"a":[1,2,{"b":null}]}`)},
		{structured, event(`,"data_base64":"AP/+"` + `,"datacontenttype":"application/octet-stream"`)},
		{structured, event(`,"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","count":3,"flag":true`)},
		{structured, event(`,"data":"just a string"`)},
		// Edge: odd but legal attribute values and header spellings.
		{strings.ToLower(binary) + "ce-subject: 김 & <\"quoted\">\n", []byte(`{}`)},
		{binary + "Ce-Source: products\nCe-Id: second\n", []byte(`{}`)},
		{binary + "Ce-Dataschema: https://example.com/schema.json\nCe-Ext1: \n", []byte(`{}`)},
		{structured, event(`,"subject":""`)},
		{"Content-Type: application/cloudevents+json\n", []byte(`{"specversion":"1.0","id":"e1","type":"t","source":"/","data":{"a":1},"data":{"a":2}}`)},
		// Malformed: missing or bad attributes, bad bodies, bad extension names.
		{"Content-Type: application/json\n", []byte(`{"a":1}`)},
		{strings.Replace(binary, "Ce-Id: 0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071\n", "", 1), []byte(`{}`)},
		{strings.Replace(binary, "1.0", "2.0", 1), []byte(`{}`)},
		{binary + "Ce-Time: yesterday\n", []byte(`{}`)},
		{binary + "Ce-Time: 2030-01-02T03:04:05+24:00\n", []byte(`{}`)},
		{binary + "Ce-Dataschema: ::not a uri\n", []byte(`{}`)},
		{binary + "Ce-Source: \n", []byte(`{}`)},
		{binary + "Ce-Bad-Name: x\n", []byte(`{}`)},
		{binary + "Ce-Data_base64: AA\n", []byte(`{}`)},
		{binary + "Ce-Averyveryveryverylongextensionname: x\n", []byte(`{}`)},
		{structured, nil},
		{structured, []byte(`{`)},
		{structured, []byte(`[]`)},
		{structured, []byte(`null`)},
		{structured, event(`,"data_base64":"!!not base64!!"`)},
		{structured, event(`,"time":"yesterday"`)},
		{structured, event(`,"Bad-Name":1`)},
		{structured, event(`,"ext":{"nested":true}`)},
		{structured, event(`,"ext":1e400`)},
		{structured, []byte(`{"specversion":"1.0","type":"t","source":"s"}`)},
		{structured, event(`} trailing`)},
		{"Content-Type: application/cloudevents-batch+json\n", []byte(`[` + string(event("")) + `]`)},
		{"Content-Type: application/cloudevents+xml\n", []byte(`<event/>`)},
		// NUL bytes and invalid UTF-8.
		{binary + "Ce-Subject: a\x00b\n", []byte(`{}`)},
		{binary + "Ce-Subject: caf\xe9\n", []byte("{\"a\":\"\xff\"}")},
		{structured, event(`,"subject":"a\u0000b"`)},
		{structured, event(",\"subject\":\"caf\xe9\"")},
		{structured, event(`,"subject":"\ud800"`)},
		{structured, append(event(""), 0)},
		// Huge numbers.
		{structured, event(`,"ext":99999999999999999999999999`)},
		{structured, event(`,"ext":-2147483649`)},
		{structured, event(`,"data":1e400`)},
		// Deep nesting.
		{structured, event(`,"data":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000))},
		{structured, event(`,"data":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat("}", 20000))},
		// Duplicate keys and unknown fields.
		{structured, []byte(`{"specversion":"1.0","id":"e1","id":"e2","type":"t","source":"s"}`)},
		{structured, []byte(`{"specversion":"1.0","specversion":"0.3","id":"e1","type":"t","source":"s"}`)},
		{structured, event(`,"unknownfield":"x","anotherone":{"a":1}`)},
	} {
		f.Add(seed.headers, seed.body)
	}
	// And exactly what the bridge sends (shared/bus.Deliver's encoding of a relayed row).
	m := bus.Message{ID: "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071", Type: "thing-happened", Source: "products",
		Subject: "42", Time: time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC), Reason: "consumer x: status 500",
		Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Data: []byte(`{"productId":"42","price":1500}`)}
	if e, err := m.Event(); err != nil {
		f.Fatal(err)
	} else if req := pushRequest(nil); cehttp.WriteRequest(f.Context(), binding.ToMessage(&e), req) != nil {
		f.Fatal("encode the bridge's delivery")
	} else {
		var headers strings.Builder
		for _, name := range slices.Sorted(maps.Keys(req.Header)) {
			for _, v := range req.Header[name] {
				headers.WriteString(name + ": " + v + "\n")
			}
		}
		body, _ := io.ReadAll(req.Body)
		f.Add(headers.String(), body)
	}
	f.Fuzz(func(t *testing.T, headers string, body []byte) {
		req := pushRequest(body)
		for _, line := range strings.Split(headers, "\n") {
			name, value, _ := strings.Cut(line, ":")
			// As net/http's server: no name that is not a token, no value with a control
			// character, surrounding spaces trimmed.
			value = strings.Trim(value, " \t\r")
			if validHeaderName(name) && validHeaderValue(value) {
				req.Header.Add(name, value)
			}
		}
		rec, got := deliver(req)
		switch {
		case rec.Code >= 200 && rec.Code <= 299:
			if len(got) != 1 {
				t.Fatalf("answered %d but the function received %d events", rec.Code, len(got))
			}
		case rec.Code >= 400 && rec.Code <= 499:
			if len(got) != 0 {
				t.Fatalf("answered %d but the function received %d events", rec.Code, len(got))
			}
			// Refused with a fault: the platform's error body, its status and a code.
			var refusal api.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &refusal); err != nil || refusal.Status != rec.Code || refusal.Code == "" {
				t.Fatalf("answered %d with %q, want an error body with a code:\n%s\n%q", rec.Code, rec.Body, headers, body)
			}
			return
		default:
			t.Fatalf("answered %d (%q) for a request the function did not fail on:\n%s\n%q", rec.Code, rec.Body, headers, body)
		}
		e := got[0]
		if err := e.Validate(); err != nil {
			t.Fatalf("function received an invalid event %v: %v", e, err)
		}
		// Delivered again as the bridge delivers it, and as a structured event.
		for _, mode := range []string{"binary", "structured"} {
			ctx := t.Context()
			if mode == "structured" {
				ctx = binding.WithForceStructured(ctx)
			}
			again := pushRequest(nil)
			if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), again); err != nil {
				t.Fatalf("received event does not encode in %s mode: %v", mode, err)
			}
			rec, back := deliver(again)
			if rec.Code/100 != 2 || len(back) != 1 {
				t.Fatalf("%s re-delivery of %v answered %d (%q)", mode, e, rec.Code, rec.Body)
			}
			sameEvent(t, mode, e, back[0])
		}
	})
}

func pushRequest(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/internal/functions/fuzz-consumer?token="+fuzzPushToken, bytes.NewReader(body))
	req.Header.Del("Content-Type")
	return req
}

// jsonData says whether e's data is JSON by its content type, so that structured mode
// carries it as a JSON value (and only a valid one survives).
func jsonData(e cloudevents.Event) bool {
	ct := e.DataContentType()
	return ct == "" || strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/json") || strings.Contains(ct, "+json")
}

// sameEvent compares events attribute by attribute: the time as an instant, extensions
// by their canonical string (a binary header cannot say an extension was a number).
func sameEvent(t *testing.T, mode string, want, got cloudevents.Event) {
	t.Helper()
	fail := func(what string, g, w any) {
		t.Fatalf("%s re-delivery changed %s: %q, want %q\n got  %v\n want %v", mode, what, g, w, got, want)
	}
	switch {
	case got.SpecVersion() != want.SpecVersion():
		fail("specversion", got.SpecVersion(), want.SpecVersion())
	case got.ID() != want.ID():
		fail("id", got.ID(), want.ID())
	case got.Type() != want.Type():
		fail("type", got.Type(), want.Type())
	case got.Source() != want.Source():
		fail("source", got.Source(), want.Source())
	case got.Subject() != want.Subject():
		fail("subject", got.Subject(), want.Subject())
	case !got.Time().Equal(want.Time()):
		fail("time", got.Time(), want.Time())
	case got.DataSchema() != want.DataSchema():
		fail("dataschema", got.DataSchema(), want.DataSchema())
	case got.DataContentType() != want.DataContentType():
		fail("datacontenttype", got.DataContentType(), want.DataContentType())
	}
	if mode == "binary" || !jsonData(want) {
		if !bytes.Equal(got.Data(), want.Data()) {
			fail("data", got.Data(), want.Data())
		}
	} else if !bytes.Equal(compactJSON(got.Data()), compactJSON(want.Data())) {
		fail("data", got.Data(), want.Data())
	}
	wantExt, gotExt := want.Extensions(), got.Extensions()
	if len(wantExt) != len(gotExt) {
		fail("extensions", gotExt, wantExt)
	}
	for name, w := range wantExt {
		ws, _ := types.Format(w)
		gs, err := types.Format(gotExt[name])
		if err != nil || gs != ws {
			fail("extension "+name, gs, ws)
		}
	}
}

func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
