package objectevent_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/8949market/market/shared/objectevent"
)

var (
	created = time.Date(2026, 12, 3, 19, 0, 0, 123456789, time.UTC)
	upload  = objectevent.Object{
		Bucket:      "uploads",
		Name:        "0b8f7a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
		Generation:  "1764788400123456",
		ContentType: "image/jpeg",
		Size:        "52314",
		TimeCreated: created,
	}
)

// notification returns the attributes and data of upload's notification.
func notification(t *testing.T, o objectevent.Object) (map[string]string, []byte) {
	t.Helper()
	attrs, data, err := objectevent.Attributes(o, created.Add(time.Second))
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	return attrs, data
}

// header writes attrs as a Pub/Sub push without wrapper does: one header per attribute.
func header(attrs map[string]string) http.Header {
	h := http.Header{}
	for k, v := range attrs {
		h.Set(k, v)
	}
	return h
}

func lookup(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	attrs, data := notification(t, upload)
	want := map[string]string{
		"notificationConfig": "projects/_/buckets/uploads/notificationConfigs/local",
		"eventType":          "OBJECT_FINALIZE",
		"payloadFormat":      "JSON_API_V1",
		"bucketId":           "uploads",
		"objectId":           upload.Name,
		"objectGeneration":   upload.Generation,
		"eventTime":          "2026-12-03T19:00:01.123456789Z",
	}
	if len(attrs) != len(want) {
		t.Errorf("attributes %v, want %v", attrs, want)
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], v)
		}
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatalf("data: %v", err)
	}
	for k, v := range map[string]any{
		"kind":        "storage#object",
		"id":          "uploads/" + upload.Name + "/" + upload.Generation,
		"bucket":      "uploads",
		"name":        upload.Name,
		"generation":  upload.Generation,
		"contentType": "image/jpeg",
		"size":        "52314",
		"timeCreated": "2026-12-03T19:00:00.123456789Z",
		"updated":     "2026-12-03T19:00:00.123456789Z",
	} {
		if fields[k] != v {
			t.Errorf("data %s = %v, want %v", k, fields[k], v)
		}
	}
	if _, _, err := objectevent.Attributes(objectevent.Object{Bucket: "uploads"}, created); err == nil {
		t.Error("Attributes of an object without name and generation: no error")
	}
}

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	attrs, data := notification(t, upload)
	for _, tc := range []struct {
		name string
		attr func(string) string
	}{
		{name: "pulled message, attributes in a map", attr: lookup(attrs)},
		{name: "push without wrapper, attributes as headers", attr: header(attrs).Get},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, ok, err := objectevent.Event(tc.attr, data)
			if !ok || err != nil {
				t.Fatalf("Event: ok %v, err %v", ok, err)
			}
			if err := e.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if e.Type() != objectevent.Type {
				t.Errorf("type %q, want %q", e.Type(), objectevent.Type)
			}
			if e.Source() != "//storage.googleapis.com/projects/_/buckets/uploads" {
				t.Errorf("source %q", e.Source())
			}
			if e.Subject() != "objects/"+upload.Name {
				t.Errorf("subject %q", e.Subject())
			}
			if !e.Time().Equal(created.Add(time.Second)) {
				t.Errorf("time %v", e.Time())
			}
			if e.DataContentType() != "application/json" {
				t.Errorf("datacontenttype %q", e.DataContentType())
			}
			var got objectevent.Object
			if err := e.DataAs(&got); err != nil {
				t.Fatalf("DataAs: %v", err)
			}
			if got.Bucket != upload.Bucket || got.Name != upload.Name || got.Generation != upload.Generation ||
				got.ContentType != upload.ContentType || got.Size != upload.Size || !got.TimeCreated.Equal(upload.TimeCreated) {
				t.Errorf("data %+v, want %+v", got, upload)
			}
			again, _, err := objectevent.Event(tc.attr, data)
			if err != nil || again.ID() != e.ID() {
				t.Errorf("a redelivery has id %q (err %v), want %q", again.ID(), err, e.ID())
			}
		})
	}
}

func TestEventID(t *testing.T) {
	t.Parallel()
	attrs, data := notification(t, upload)
	first, _, err := objectevent.Event(lookup(attrs), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(o *objectevent.Object)
	}{
		{name: "another generation", change: func(o *objectevent.Object) { o.Generation = "1764788400123457" }},
		{name: "another object", change: func(o *objectevent.Object) { o.Name += "x" }},
		{name: "another bucket", change: func(o *objectevent.Object) { o.Bucket = "photos" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := upload
			tc.change(&o)
			attrs, data := notification(t, o)
			e, _, err := objectevent.Event(lookup(attrs), data)
			if err != nil {
				t.Fatal(err)
			}
			if e.ID() == first.ID() {
				t.Errorf("id %q is the first notification's", e.ID())
			}
		})
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	for eventType, want := range map[string]string{
		"OBJECT_FINALIZE":        objectevent.Type,
		"OBJECT_DELETE":          "google.cloud.storage.object.v1.deleted",
		"OBJECT_ARCHIVE":         "google.cloud.storage.object.v1.archived",
		"OBJECT_METADATA_UPDATE": "google.cloud.storage.object.v1.metadataUpdated",
	} {
		t.Run(eventType, func(t *testing.T) {
			t.Parallel()
			attrs, data := notification(t, upload)
			attrs["eventType"] = eventType
			e, ok, err := objectevent.Event(lookup(attrs), data)
			if !ok || err != nil {
				t.Fatalf("Event: ok %v, err %v", ok, err)
			}
			if e.Type() != want {
				t.Errorf("type %q, want %q", e.Type(), want)
			}
		})
	}
}

func TestEventMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(attrs map[string]string, data *[]byte)
	}{
		{name: "another payload format", change: func(a map[string]string, _ *[]byte) { a["payloadFormat"] = "NONE" }},
		{name: "no bucketId", change: func(a map[string]string, _ *[]byte) { delete(a, "bucketId") }},
		{name: "no objectId", change: func(a map[string]string, _ *[]byte) { delete(a, "objectId") }},
		{name: "no objectGeneration", change: func(a map[string]string, _ *[]byte) { delete(a, "objectGeneration") }},
		{name: "no eventType", change: func(a map[string]string, _ *[]byte) { delete(a, "eventType") }},
		{name: "no eventTime", change: func(a map[string]string, _ *[]byte) { delete(a, "eventTime") }},
		{name: "unknown eventType", change: func(a map[string]string, _ *[]byte) { a["eventType"] = "OBJECT_EXPLODE" }},
		{name: "bad eventTime", change: func(a map[string]string, _ *[]byte) { a["eventTime"] = "yesterday" }},
		{name: "generation not a number", change: func(a map[string]string, _ *[]byte) { a["objectGeneration"] = "first" }},
		{name: "objectId with a leading space", change: func(a map[string]string, _ *[]byte) { a["objectId"] = " " + a["objectId"] }},
		{name: "objectId with a trailing space", change: func(a map[string]string, _ *[]byte) { a["objectId"] += " " }},
		{name: "data not JSON", change: func(_ map[string]string, d *[]byte) { *d = []byte(`{"bucket":`) }},
		{name: "no data", change: func(_ map[string]string, d *[]byte) { *d = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			attrs, data := notification(t, upload)
			tc.change(attrs, &data)
			_, ok, err := objectevent.Event(lookup(attrs), data)
			if !ok || err == nil {
				t.Errorf("Event: ok %v, err %v; want ok and an error", ok, err)
			}
		})
	}
}

func TestEventNotANotification(t *testing.T) {
	t.Parallel()
	// A CloudEvent in binary mode, as the outbox relay pushes one.
	h := http.Header{}
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", "4a7e1c9e-5b3f-4f8e-9a51-7f0d2f3c1b2a")
	h.Set("ce-type", "product-created")
	h.Set("ce-source", "products")
	h.Set("Content-Type", "application/json")
	_, ok, err := objectevent.Event(h.Get, []byte(`{"n":1}`))
	if ok || err != nil {
		t.Errorf("Event: ok %v, err %v; want not ok, no error", ok, err)
	}
}
