// Package dashboards defines the platform's dashboards once, from the function registry
// and the metric catalogue (metrics.go), and renders each twice: as a Cloud Monitoring
// dashboard on the metrics Google's OpenTelemetry exporter writes
// (infra/terraform/dashboards, one google_monitoring_dashboard each) and as a Grafana
// dashboard on a local Prometheus (infra/compose/observability/grafana/dashboards). A
// panel's queries are PromQL expressions written once (promql.go); only the metric and
// label names differ between the two (Dialect). `make manifest` writes both sets of
// files; a test in infra/ fails when the committed ones differ from what Build makes now.
package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/8949market/market/shared/events"
	"github.com/8949market/market/shared/registry"
)

// Dashboard is one dashboard: rows of panels.
type Dashboard struct {
	Name  string // file name without .json, and part of its id
	Title string
	Rows  []Row
}

// Row is a line of panels under a title (a function, a part of the pipeline).
type Row struct {
	Title  string
	Panels []Panel
}

// Panel is one time-series chart.
type Panel struct {
	Title   string
	Unit    Unit
	Queries []Query
}

// Query is one line (or family of lines) of a panel.
type Query struct {
	Expr Expr
	// Legend names each line: text with {{attribute}} for the line's attribute values.
	Legend string
}

// Unit is what a panel's values measure.
type Unit string

// The units of the panels.
const (
	PerSecond Unit = "per second"
	Seconds   Unit = "seconds"
	Share     Unit = "share" // 0 to 1
	Count     Unit = "count"
)

// CloudOnly says whether the panel reads a metric only Cloud Monitoring has.
func (p Panel) CloudOnly() bool {
	for _, q := range p.Queries {
		for _, s := range q.Expr.selectors() {
			if s.metric.CloudOnly {
				return true
			}
		}
	}
	return false
}

// Build makes the four dashboards from the registered functions: functions (a row per
// function), backbone (outbox, relay, consumers, dead letters), deal hot path
// (reservations, admissions, the trade it opens) and chat. It refuses a query that reads
// anything outside the catalogue.
func Build(fns []registry.Function) ([]Dashboard, error) {
	if len(fns) == 0 {
		return nil, fmt.Errorf("dashboards: no function registered")
	}
	out := []Dashboard{functions(fns), backbone(), hotPath(fns), chat(fns)}
	for _, d := range out {
		for _, r := range d.Rows {
			for _, p := range r.Panels {
				for _, q := range p.Queries {
					if err := check(q.Expr); err != nil {
						return nil, fmt.Errorf("dashboard %s, panel %q: %w", d.Name, p.Title, err)
					}
				}
			}
		}
	}
	return out, nil
}

// The attributes the panels group and filter by.
const (
	attrFunction = "function"
	attrStatus   = "http.response.status_code"
	attrConsumer = "consumer"
	attrOutcome  = "outcome"
	attrTopic    = "topic"
	attrSource   = "source"
)

// legendOf names a line by the values of the attributes.
func legendOf(attributes ...string) string {
	parts := make([]string, len(attributes))
	for i, a := range attributes {
		parts[i] = "{{" + a + "}}"
	}
	return strings.Join(parts, " ")
}

// serverErrors matches the 5xx answers.
var serverErrors = Matches(attrStatus, "5..")

// traffic is the requests per second of the matched requests by status code.
func traffic(title string, by []string, legend string, ms ...Matcher) Panel {
	return Panel{Title: title, Unit: PerSecond, Queries: []Query{
		{Expr: Sum(by, Rate(RequestDuration, ms...)), Legend: legend},
	}}
}

// errorShare is the share of the matched requests answered 5xx.
func errorShare(title string, by []string, legend string, ms ...Matcher) Panel {
	return Panel{Title: title, Unit: Share, Queries: []Query{{
		Expr:   Ratio(Sum(by, Rate(RequestDuration, append(slices.Clone(ms), serverErrors)...)), Sum(by, Rate(RequestDuration, ms...))),
		Legend: legend,
	}}}
}

// percentiles is the p50 and p99 of a histogram.
func percentiles(title string, m Metric, ms ...Matcher) Panel {
	return Panel{Title: title, Unit: Seconds, Queries: []Query{
		{Expr: Quantile(0.5, m, nil, ms...), Legend: "p50"},
		{Expr: Quantile(0.99, m, nil, ms...), Legend: "p99"},
	}}
}

// functions has a row per function: its requests (consumers and scheduled functions are
// invoked by HTTP push too), 5xx share and latency; a consumer also its lag and outcomes.
func functions(fns []registry.Function) Dashboard {
	d := Dashboard{Name: "functions", Title: "8949 market: functions"}
	for _, f := range fns {
		fn := Is(attrFunction, f.Name)
		row := Row{Title: rowTitle(f), Panels: []Panel{
			traffic(f.Name+": requests/s by status", []string{attrStatus}, legendOf(attrStatus), fn),
			errorShare(f.Name+": 5xx share", nil, "5xx", fn),
			percentiles(f.Name+": latency", RequestDuration, fn),
		}}
		if f.Kind == registry.KindEvent {
			consumer := Is(attrConsumer, f.Name)
			row.Panels = append(row.Panels,
				percentiles(f.Name+": consumer lag (event time to effect)", ConsumerLag, consumer),
				Panel{Title: f.Name + ": events/s by outcome", Unit: PerSecond, Queries: []Query{
					{Expr: Sum([]string{attrOutcome}, Rate(ConsumerEvents, consumer)), Legend: legendOf(attrOutcome)},
				}},
			)
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

func rowTitle(f registry.Function) string {
	switch f.Kind {
	case registry.KindHTTP:
		return f.Name + " (" + f.Route() + ")"
	case registry.KindEvent:
		title := f.Name + " (consumes " + f.Topic
		if f.Host != "" {
			title += ", in " + f.Host
		}
		return title + ")"
	default:
		return f.Name + " (scheduled " + f.Schedule + ")"
	}
}

// backbone follows an event from the outbox to its consumers, and to the dead letters.
func backbone() Dashboard {
	topic := []string{attrTopic}
	return Dashboard{Name: "backbone", Title: "8949 market: event backbone", Rows: []Row{
		{Title: "outbox", Panels: []Panel{
			{Title: "outbox backlog (PENDING rows)", Unit: Count, Queries: []Query{{Expr: Max(nil, Value(OutboxBacklog)), Legend: "pending"}}},
			{Title: "oldest PENDING row age", Unit: Seconds, Queries: []Query{{Expr: Max(nil, Value(OutboxOldestAge)), Legend: "oldest"}}},
			{Title: "commit to broker ack lag", Unit: Seconds, Queries: []Query{
				{Expr: Quantile(0.5, RelayLag, nil), Legend: "p50"},
				{Expr: Quantile(0.99, RelayLag, nil), Legend: "p99"},
			}},
		}},
		{Title: "relay", Panels: []Panel{
			{Title: "published/s by topic", Unit: PerSecond, Queries: []Query{{Expr: Sum(topic, Rate(RelayPublished)), Legend: legendOf(attrTopic)}}},
			{Title: "publish failures/s by topic", Unit: PerSecond, Queries: []Query{{Expr: Sum(topic, Rate(RelayFailures)), Legend: legendOf(attrTopic)}}},
			{Title: "commit to broker ack lag p99 by topic", Unit: Seconds, Queries: []Query{{Expr: Quantile(0.99, RelayLag, topic), Legend: legendOf(attrTopic)}}},
		}},
		{Title: "consumers", Panels: []Panel{
			{Title: "consumer lag p99 by consumer", Unit: Seconds, Queries: []Query{
				{Expr: Quantile(0.99, ConsumerLag, []string{attrConsumer}), Legend: legendOf(attrConsumer)},
			}},
			{Title: "events/s by outcome", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrOutcome}, Rate(ConsumerEvents)), Legend: legendOf(attrOutcome)},
			}},
			{Title: "failed or malformed events/s by consumer", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrConsumer}, Rate(ConsumerEvents, OneOf(attrOutcome, "failed", "malformed"))), Legend: legendOf(attrConsumer)},
			}},
		}},
		{Title: "dead letters", Panels: []Panel{
			{Title: "dead letters by topic and source (relay, bridge, reconcile), per " + window, Unit: Count, Queries: []Query{
				{Expr: Sum([]string{attrTopic, attrSource}, Increase(DeadLetters)), Legend: legendOf(attrTopic, attrSource)},
			}},
			{Title: "Pub/Sub dead-lettered messages by subscription, per " + window, Unit: Count, Queries: []Query{
				{Expr: Sum([]string{"subscription_id"}, Increase(PubSubDeadLetters)), Legend: legendOf("subscription_id")},
			}},
		}},
	}}
}

// hotPath is the time deal: the reservation functions' traffic and latency, how
// applicants are admitted and queued, and how soon the trade opens.
func hotPath(fns []registry.Function) Dashboard {
	var reservations, tradeOpeners []string
	for _, f := range fns {
		switch {
		case f.Kind == registry.KindHTTP && inDomain(f, "reservations"):
			reservations = append(reservations, f.Name)
		case f.Kind == registry.KindEvent && f.Topic == events.ReservationCompleted && inDomain(f, "trades"):
			tradeOpeners = append(tradeOpeners, f.Name)
		}
	}
	fn := OneOf(attrFunction, reservations...)
	byFn := []string{attrFunction}
	d := Dashboard{Name: "deal-hot-path", Title: "8949 market: deal hot path", Rows: []Row{
		{Title: "reservation functions", Panels: []Panel{
			traffic("requests/s by function", byFn, legendOf(attrFunction), fn),
			{Title: "latency p99 by function", Unit: Seconds, Queries: []Query{
				{Expr: Quantile(0.99, RequestDuration, byFn, fn), Legend: legendOf(attrFunction)},
			}},
			errorShare("5xx share by function", byFn, legendOf(attrFunction), fn),
		}},
		{Title: "admission", Panels: []Panel{
			{Title: "admissions/s by outcome", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrOutcome}, Rate(Admissions)), Legend: legendOf(attrOutcome)},
			}},
			{Title: "queue position at admission", Unit: Count, Queries: []Query{
				{Expr: Quantile(0.5, QueuePosition, nil), Legend: "p50"},
				{Expr: Quantile(0.99, QueuePosition, nil), Legend: "p99"},
			}},
		}},
	}}
	if len(tradeOpeners) > 0 {
		d.Rows = append(d.Rows, Row{Title: "trade opening", Panels: []Panel{
			percentiles("trade opening lag (reservation completed to trade)", ConsumerLag, OneOf(attrConsumer, tradeOpeners...)),
			{Title: "trade opening events/s by outcome", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrOutcome}, Rate(ConsumerEvents, OneOf(attrConsumer, tradeOpeners...))), Legend: legendOf(attrOutcome)},
			}},
		}})
	}
	return d
}

// inDomain says whether f's package is under functions/<domain>/.
func inDomain(f registry.Function, domain string) bool {
	return strings.Contains(f.Package+"/", "/functions/"+domain+"/")
}

// chat is the chat server: WebSocket connections, messages, delivery, errors, its REST
// traffic and the trade events it consumes.
func chat(fns []registry.Function) Dashboard {
	server := Is(ServiceAttribute, ChatService)
	d := Dashboard{Name: "chat", Title: "8949 market: chat", Rows: []Row{
		{Title: "connections and messages", Panels: []Panel{
			{Title: "open WebSocket connections", Unit: Count, Queries: []Query{{Expr: Sum(nil, Value(ChatConnections)), Legend: "connections"}}},
			{Title: "messages/s by outcome", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrOutcome}, Rate(ChatMessages)), Legend: legendOf(attrOutcome)},
			}},
			percentiles("delivery (frame received to stored and broadcast)", ChatDelivery),
		}},
		{Title: "errors and requests", Panels: []Panel{
			{Title: "errors/s by code", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{"code"}, Rate(ChatErrors)), Legend: legendOf("code")},
			}},
			traffic(ChatService+" requests/s by status", []string{attrStatus}, legendOf(attrStatus), server),
			percentiles(ChatService+" request latency", RequestDuration, server),
		}},
	}}
	var hosted []string
	for _, f := range fns {
		if f.Host == ChatService {
			hosted = append(hosted, f.Name)
		}
	}
	if len(hosted) > 0 {
		consumer := OneOf(attrConsumer, hosted...)
		d.Rows = append(d.Rows, Row{Title: "trade events in the chat server", Panels: []Panel{
			{Title: "consumer lag p99 by consumer", Unit: Seconds, Queries: []Query{
				{Expr: Quantile(0.99, ConsumerLag, []string{attrConsumer}, consumer), Legend: legendOf(attrConsumer)},
			}},
			{Title: "events/s by outcome", Unit: PerSecond, Queries: []Query{
				{Expr: Sum([]string{attrOutcome}, Rate(ConsumerEvents, consumer)), Legend: legendOf(attrOutcome)},
			}},
		}})
	}
	return d
}
