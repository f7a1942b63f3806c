package bus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Deliver POSTs m to a consumer function at url as a binary-mode CloudEvent (ce-*
// headers, JSON body), as Pub/Sub push and Eventarc do. Only a 2xx answer is success.
func Deliver(ctx context.Context, client *http.Client, url string, m Message) error {
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
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", m.ID, url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("deliver %s to %s: status %d: %s", m.ID, url, res.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}
