package dashboards

import (
	"fmt"
	"strings"
	"testing"
)

// One expression, two renderings: only the metric and label names differ.
func TestRender(t *testing.T) {
	t.Parallel()
	fn := Is("function", "products-get")
	for _, c := range []struct {
		expr         Expr
		cloud, local string
	}{
		{
			Ratio(Sum(nil, Rate(RequestDuration, fn, Matches("http.response.status_code", "5.."))), Sum(nil, Rate(RequestDuration, fn))),
			`(sum(rate(workload_googleapis_com:http_server_request_duration_count{function="products-get",http_response_status_code=~"5.."}[5m])) or vector(0)) / sum(rate(workload_googleapis_com:http_server_request_duration_count{function="products-get"}[5m]))`,
			`(sum(rate(http_server_request_duration_seconds_count{function="products-get",http_response_status_code=~"5.."}[5m])) or vector(0)) / sum(rate(http_server_request_duration_seconds_count{function="products-get"}[5m]))`,
		},
		{
			Quantile(0.99, ConsumerLag, []string{"consumer"}, OneOf("consumer", "a-b", "c.d")),
			`histogram_quantile(0.99, sum by (le, consumer) (rate(workload_googleapis_com:market_consumer_lag_bucket{consumer=~"a-b|c\\.d"}[5m])))`,
			`histogram_quantile(0.99, sum by (le, consumer) (rate(market_consumer_lag_seconds_bucket{consumer=~"a-b|c\\.d"}[5m])))`,
		},
		{
			Sum([]string{"http.response.status_code"}, Rate(RequestDuration, Is(ServiceAttribute, ChatService))),
			`sum by (http_response_status_code) (rate(workload_googleapis_com:http_server_request_duration_count{service_name="chat-server"}[5m]))`,
			`sum by (http_response_status_code) (rate(http_server_request_duration_seconds_count{job="chat-server"}[5m]))`,
		},
		{
			Max(nil, Value(OutboxOldestAge)),
			`max(workload_googleapis_com:market_outbox_oldest_age{})`,
			`max(market_outbox_oldest_age_seconds{})`,
		},
	} {
		if got := c.expr.Render(CloudMonitoring); got != c.cloud {
			t.Errorf("Cloud Monitoring:\n got %s\nwant %s", got, c.cloud)
		}
		if got := c.expr.Render(Prometheus); got != c.local {
			t.Errorf("Prometheus:\n got %s\nwant %s", got, c.local)
		}
	}
}

// A query outside the catalogue is refused: an unknown metric, the wrong series of a
// histogram, an attribute the metric does not carry.
func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	for _, e := range []Expr{
		Sum(nil, Rate(Metric{Name: "market.unknown", Kind: Counter})),
		Sum(nil, Rate(Metric{Name: ConsumerEvents.Name, Kind: Counter})), // attributes differ
		Value(RequestDuration),
		Sum(nil, Rate(ConsumerEvents, Is("topic", "product-created"))),
		Sum([]string{"topic"}, Rate(ConsumerEvents)),
	} {
		if err := check(e); err == nil {
			t.Errorf("%s: accepted", e.Render(Prometheus))
		}
	}
	if err := check(Sum([]string{"topic", "source"}, Increase(DeadLetters, Is(ServiceAttribute, "outbox-relay")))); err != nil {
		t.Error(err)
	}
}

// A dashboard past Cloud Monitoring's widget limit is cut into pages of whole rows, in
// order; one that fits is left whole.
func TestCloudMonitoringPages(t *testing.T) {
	t.Parallel()
	panel := Panel{Title: "p", Unit: Count, Queries: []Query{{Expr: Value(OutboxBacklog)}}}
	d := Dashboard{Name: "big", Title: "Big"}
	for i := range 60 {
		d.Rows = append(d.Rows, Row{Title: fmt.Sprint(i), Panels: []Panel{panel, panel, panel}})
	}
	pages, err := CloudMonitoringPages(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Name != "big-1" || pages[1].Title != "Big (2/2)" {
		t.Fatalf("pages %d: %q %q", len(pages), pages[0].Name, pages[len(pages)-1].Title)
	}
	next := 0
	for _, p := range pages {
		tiles := 0
		for _, r := range p.Rows {
			tiles += len(r.Panels)
			if r.Title != fmt.Sprint(next) {
				t.Fatalf("%s: row %s, want %d", p.Name, r.Title, next)
			}
			next++
		}
		if tiles > MaxTiles {
			t.Errorf("%s: %d tiles", p.Name, tiles)
		}
	}
	d.Rows = d.Rows[:10]
	if pages, err := CloudMonitoringPages(d); err != nil || len(pages) != 1 || pages[0].Name != "big" {
		t.Errorf("a dashboard that fits: %d pages, %v", len(pages), err)
	}
	raw, err := CloudMonitoringJSON(d)
	if err != nil || !strings.Contains(string(raw), `"prometheusQuery": "workload_googleapis_com:market_outbox_backlog{}"`) {
		t.Errorf("CloudMonitoringJSON: %v\n%s", err, raw)
	}
}
