package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/8949market/market/shared/testenv"
)

// What a developer running make dev sees: the trace of a request at /debug/traces/{id},
// reaching across the outbox to the consumers, and the metrics at /metrics.
func TestTracesAndMetricsOfMakeDev(t *testing.T) {
	s := startStack(t)
	seller, buyer, second := s.user(t), s.user(t), s.user(t)

	res := s.raw(t, "POST", "/api/v1/products", `{"name":"Traced camera","price":1000,"startTime":"`+
		time.Now().Add(3*time.Second).UTC().Format(time.RFC3339Nano)+`","endTime":"`+
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)+`"}`, seller.Token)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create product: %d", res.StatusCode)
	}
	traceID := res.Header.Get("X-Trace-Id")
	var product struct {
		Data struct {
			ProductID string `json:"productId"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&product); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	// The listing's trace reaches the reservations consumer that opens the deal.
	var spans []struct {
		Name     string `json:"name"`
		ParentID string `json:"parentId"`
		Service  string `json:"service"`
	}
	testenv.Eventually(t, 30*time.Second, "the consumer's span in the listing's trace", func() bool {
		r := s.raw(t, "GET", "/debug/traces/"+traceID+"?format=json", "", "")
		defer r.Body.Close()
		spans = spans[:0]
		if r.StatusCode != http.StatusOK || json.NewDecoder(r.Body).Decode(&spans) != nil {
			return false
		}
		for _, sp := range spans {
			if sp.Name == "consume reservations-product-created" {
				return true
			}
		}
		return false
	})
	names := map[string]bool{}
	for _, sp := range spans {
		names[sp.Name] = true
		if sp.Service != "market-dev" {
			t.Errorf("span %q of service %q, want market-dev", sp.Name, sp.Service)
		}
	}
	for _, want := range []string{"products-create", "outbox.write product-created", "reservations-product-created", "INSERT"} {
		if !names[want] {
			t.Errorf("no span %q in the listing's trace; have %v", want, names)
		}
	}
	page := s.raw(t, "GET", "/debug/traces/"+traceID, "", "")
	tree, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(tree), "  outbox.write product-created") {
		t.Errorf("the trace page does not show the tree:\n%s", tree)
	}

	// Two applicants: a buyer and one in the queue.
	productID, err := uuid.Parse(product.Data.ProductID)
	if err != nil {
		t.Fatalf("product id %q: %v", product.Data.ProductID, err)
	}
	id := s.reservationOf(t, productID)
	testenv.Eventually(t, 30*time.Second, "the deal open and the buyer admitted", func() bool {
		status, _, _, err := s.apply(id, buyer)
		return err == nil && status == http.StatusOK
	})
	if status, code, _, err := s.apply(id, second); err != nil || status != http.StatusOK {
		t.Fatalf("second applicant: %d %s %v", status, code, err)
	}
	s.allDelivered(t, 30*time.Second)

	r := s.raw(t, "GET", "/metrics", "", "")
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	metrics := string(body)
	for _, name := range []string{
		"market_consumer_events_total", "market_consumer_lag_seconds_bucket",
		"market_relay_published_total", "market_relay_lag_seconds_bucket",
		"market_outbox_backlog", "market_outbox_oldest_age_seconds",
		"market_reservations_admissions_total", "market_reservations_queue_position_bucket",
		"go_goroutine_count", "go_memory_used_bytes",
	} {
		if !hasSeries(metrics, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	for _, want := range []string{
		`http_server_request_duration_seconds_count{function="products-create"`,
		`http_server_request_duration_seconds_bucket{function="reservations-apply"`,
		`market_consumer_events_total{consumer="reservations-product-created",outcome="applied"`,
		`market_reservations_admissions_total{outcome="buyer"`,
		`market_reservations_admissions_total{outcome="queued"`,
	} {
		if !hasSeries(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
}

// hasSeries says whether a series of the Prometheus text matches want: a metric name,
// with, if given, labels that must all be among the series' (in any order).
func hasSeries(text, want string) bool {
	name, labels, _ := strings.Cut(want, "{")
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || strings.HasPrefix(line, "#") || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if containsAll(rest, strings.Split(labels, ",")) {
			return true
		}
	}
	return false
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// raw sends a request and returns the response as is (headers included).
func (s *stack) raw(t *testing.T, method, path, body, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
