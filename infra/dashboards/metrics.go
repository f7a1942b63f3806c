package dashboards

import "strings"

// Kind is the kind of an OpenTelemetry instrument, which decides its exported names.
type Kind int

// The instrument kinds the catalogue uses.
const (
	Counter       Kind = iota // monotonic sum: Prometheus adds _total
	UpDownCounter             // non-monotonic sum: a gauge on both backends
	Gauge                     // observed value
	Histogram                 // _bucket, _sum and _count series on both backends
)

// Metric is one instrument the platform exports, as the code names it.
type Metric struct {
	Name       string   // instrument name, or a Cloud Monitoring metric type (CloudOnly)
	Kind       Kind     //
	Unit       string   // UCUM: "s", or an annotation such as "{event}" that adds no suffix
	Attributes []string // the attributes its data points carry
	// CloudOnly is a Cloud Monitoring system metric (Name is its type): no local
	// Prometheus scrapes it, so the Grafana rendering leaves its panels out.
	CloudOnly bool
}

// The metric catalogue: what shared/telemetry and the services export (every data point
// also carries the resource attribute service.name: the Cloud Run service), plus the
// Google Cloud system metrics the dashboards read. A query may read nothing else (Build
// refuses, and the infra test checks the rendered queries).
var (
	RequestDuration = Metric{Name: "http.server.request.duration", Kind: Histogram, Unit: "s",
		Attributes: []string{"function", "http.request.method", "http.response.status_code"}}
	OutboxBacklog   = Metric{Name: "market.outbox.backlog", Kind: Gauge, Unit: "{event}"}
	OutboxOldestAge = Metric{Name: "market.outbox.oldest.age", Kind: Gauge, Unit: "s"}
	RelayPublished  = Metric{Name: "market.relay.published", Kind: Counter, Unit: "{event}", Attributes: []string{"topic"}}
	RelayFailures   = Metric{Name: "market.relay.publish.failures", Kind: Counter, Unit: "{event}", Attributes: []string{"topic"}}
	RelayLag        = Metric{Name: "market.relay.lag", Kind: Histogram, Unit: "s", Attributes: []string{"topic"}}
	ConsumerEvents  = Metric{Name: "market.consumer.events", Kind: Counter, Unit: "{event}", Attributes: []string{"consumer", "outcome"}}
	ConsumerLag     = Metric{Name: "market.consumer.lag", Kind: Histogram, Unit: "s", Attributes: []string{"consumer"}}
	DeadLetters     = Metric{Name: "market.deadletters", Kind: Counter, Unit: "{event}", Attributes: []string{"topic", "source"}}
	Admissions      = Metric{Name: "market.reservations.admissions", Kind: Counter, Unit: "{reservation}", Attributes: []string{"outcome"}}
	QueuePosition   = Metric{Name: "market.reservations.queue.position", Kind: Histogram, Unit: "{position}"}
	ChatConnections = Metric{Name: "market.chat.connections", Kind: UpDownCounter, Unit: "{connection}"}
	ChatMessages    = Metric{Name: "market.chat.messages", Kind: Counter, Unit: "{message}", Attributes: []string{"outcome"}}
	ChatDelivery    = Metric{Name: "market.chat.delivery.duration", Kind: Histogram, Unit: "s"}
	ChatErrors      = Metric{Name: "market.chat.errors", Kind: Counter, Unit: "{error}", Attributes: []string{"code"}}

	// PubSubDeadLetters is Pub/Sub's count of messages a subscription moved to its
	// dead-letter topic.
	PubSubDeadLetters = Metric{Name: "pubsub.googleapis.com/subscription/dead_letter_message_count", Kind: Counter,
		Attributes: []string{"subscription_id"}, CloudOnly: true}
)

// Catalogue is every metric a dashboard or alert may read.
func Catalogue() []Metric {
	return []Metric{
		RequestDuration, OutboxBacklog, OutboxOldestAge, RelayPublished, RelayFailures, RelayLag,
		ConsumerEvents, ConsumerLag, DeadLetters, Admissions, QueuePosition,
		ChatConnections, ChatMessages, ChatDelivery, ChatErrors, PubSubDeadLetters,
	}
}

// ServiceAttribute is the resource attribute naming the service that exported a point.
const ServiceAttribute = "service.name"

// ChatService is the chat server's service name (its Cloud Run service, service.name).
const ChatService = "chat-server"

// Dialect is where the queries run: the metric and label names differ, the PromQL does
// not.
type Dialect struct {
	Name string
	// metric names a series of m: part is "" for a counter or gauge, and "bucket", "sum"
	// or "count" for a histogram.
	metric func(m Metric, part string) string
	// serviceLabel is the label that carries service.name.
	serviceLabel string
}

// CloudMonitoring is Cloud Monitoring's PromQL over what Google's OpenTelemetry exporter
// writes: instrument a.b.c is the metric type workload.googleapis.com/a.b.c, queried as
// workload_googleapis_com:a_b_c (a histogram's series with _bucket, _sum, _count), and
// the exporter copies service.name onto every point as the label service_name.
var CloudMonitoring = Dialect{
	Name: "Cloud Monitoring",
	metric: func(m Metric, part string) string {
		typ := m.Name
		if !m.CloudOnly {
			typ = "workload.googleapis.com/" + m.Name
		}
		domain, path, _ := strings.Cut(typ, "/")
		return underscore(domain) + ":" + underscore(path) + suffix(part)
	},
	serviceLabel: "service_name",
}

// Prometheus is a local Prometheus scraping the OpenTelemetry Prometheus exporter, which
// adds the unit (_seconds for "s", nothing for an annotation) and _total to a counter.
// service.name is the scrape job's label there: the local scrape jobs are named after
// the services.
var Prometheus = Dialect{
	Name: "Prometheus",
	metric: func(m Metric, part string) string {
		name := underscore(m.Name)
		if m.Unit == "s" {
			name += "_seconds"
		}
		if m.Kind == Counter {
			name += "_total"
		}
		return name + suffix(part)
	},
	serviceLabel: "job",
}

// Series are the names of every series of m in the dialect.
func (d Dialect) Series(m Metric) []string {
	if m.Kind == Histogram {
		return []string{d.metric(m, "bucket"), d.metric(m, "sum"), d.metric(m, "count")}
	}
	return []string{d.metric(m, "")}
}

// Label is the name an attribute has in the dialect: service.name is the dialect's
// service label, and dots become underscores (both exporters' rule).
func (d Dialect) Label(attribute string) string {
	if attribute == ServiceAttribute {
		return d.serviceLabel
	}
	return underscore(attribute)
}

func suffix(part string) string {
	if part == "" {
		return ""
	}
	return "_" + part
}

// underscore replaces what may not appear in a Prometheus name with underscores.
func underscore(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
