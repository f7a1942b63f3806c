package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/8949market/market/shared/telemetry"
)

// Deliver POSTs m to a consumer function at url as a binary-mode CloudEvent (ce-*
// headers, JSON body), as Pub/Sub push and Eventarc do. Only a 2xx answer is success.
//
// The consumer continues the trace the delivery carries: ctx's span when it has one (the
// push bridge's deliver span, a child of the event's), else m.Traceparent. It goes in
// both the traceparent header and the CloudEvent's traceparent (ce-traceparent): a
// consumer's front door prefers the event's (shared/registry), as it must behind Google's
// front end, which puts a trace of its own in the header.
func Deliver(ctx context.Context, client *http.Client, url string, m Message) error {
	if tp := telemetry.Traceparent(ctx); tp != "" {
		m.Traceparent = tp
	}
	e, err := m.Event()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return fmt.Errorf("deliver %s: %w", m.ID, err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		return fmt.Errorf("deliver %s: encode: %w", m.ID, err)
	}
	if m.Traceparent != "" {
		req.Header.Set("traceparent", m.Traceparent)
	}
	// The URL may carry the local delivery credential: errors name it without its query.
	where := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	res, err := client.Do(req)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil { // *url.Error repeats the whole URL
			err = inner
		}
		return fmt.Errorf("deliver %s to %s: %w", m.ID, where, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("deliver %s to %s: status %d: %s", m.ID, where, res.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
