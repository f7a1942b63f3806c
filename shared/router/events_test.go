package router_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/registry"
	"github.com/8949market/market/shared/router"
	"github.com/8949market/market/shared/testenv"
)

// Every consumer answers a delivery it cannot take with the REST error body and 400 C017:
// a status that is not 2xx, so Pub/Sub push or the bridge retries it and then parks it on
// the dead-letter topic with the body as the reason, where it was a bare 500 before.
func TestMalformedEventsRefusedByEveryConsumer(t *testing.T) {
	t.Parallel()
	cfg, signer := testenv.Config(t)
	o := serve(t, cfg, signer, router.Options{})
	ce := func(id, contentType string) http.Header {
		return http.Header{
			"Content-Type":   {contentType},
			"Ce-Specversion": {"1.0"},
			"Ce-Id":          {id},
			"Ce-Type":        {"some-event"},
			"Ce-Source":      {"test"},
		}
	}
	tests := []struct {
		name   string
		header http.Header
		body   string
		field  string
	}{
		{"not a CloudEvent", http.Header{"Content-Type": {"text/plain"}}, "hello", ""},
		{"JSON but no CloudEvent attributes", http.Header{"Content-Type": {"application/json"}}, `{"productId":"` + uuid.NewString() + `"}`, ""},
		{"structured mode, broken", http.Header{"Content-Type": {"application/cloudevents+json"}}, `{"specversion":"1.0",`, ""},
		{"data not JSON", ce(uuid.NewString(), "application/json"), `{"productId":`, "data"},
		{"data an array", ce(uuid.NewString(), "application/json"), `[1,2,3]`, "data"},
		{"data a string", ce(uuid.NewString(), "application/json"), `"product"`, "data"},
		{"ids not UUIDs", ce(uuid.NewString(), "application/json"), `{"productId":"p1","reservationId":"r1","tradeId":"t1","roomId":"c1","sellerId":"s1","buyerId":"b1"}`, "data"},
		{"event id not a UUID", ce("order-42", "application/json"), `{}`, "id"},
	}
	consumers := 0
	for _, f := range registry.All() {
		if f.Kind != registry.KindEvent {
			continue
		}
		consumers++
		for _, tt := range tests {
			t.Run(f.Name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				o.do(t, http.MethodPost, o.internalURL(t, f.Name), tt.header, []byte(tt.body)).
					refused(t, http.StatusBadRequest, "C017", tt.field)
			})
		}
	}
	if consumers == 0 {
		t.Fatal("no event function registered")
	}
}
