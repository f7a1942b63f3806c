package infra_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/8949market/market/infra/dashboards"
	"github.com/8949market/market/shared/registry"
)

// The generated dashboard directories, from infra/.
var (
	cloudDashboardsDir   = strings.TrimPrefix(dashboards.CloudMonitoringDir, "infra/")
	grafanaDashboardsDir = strings.TrimPrefix(dashboards.GrafanaDir, "infra/")
)

// committedDashboards reads every .json file of a generated directory, by file name.
func committedDashboards(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = raw
	}
	if len(out) == 0 {
		t.Fatalf("no dashboards in %s: run make manifest", dir)
	}
	return out
}

// The committed dashboards are what `make manifest` generates from the registry now, and
// make manifest writes them.
func TestDashboardsAreGenerated(t *testing.T) {
	t.Parallel()
	cloud, grafana, err := dashboards.Files(registry.All())
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]map[string][]byte{cloudDashboardsDir: cloud, grafanaDashboardsDir: grafana} {
		got := committedDashboards(t, dir)
		assertSet(t, "dashboards in "+dir, slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
		for name, b := range want {
			if g, ok := got[name]; ok && !bytes.Equal(g, b) {
				t.Errorf("%s/%s is stale: run make manifest", dir, name)
			}
		}
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for flag, dir := range map[string]string{"-dashboards": dashboards.CloudMonitoringDir, "-grafana": dashboards.GrafanaDir} {
		if !regexp.MustCompile(`(?m)^manifest:\n(\t.*\n)*\t.*` + flag + ` ` + regexp.QuoteMeta(dir) + `( |$)`).Match(makefile) {
			t.Errorf("make manifest does not write %s (%s)", dir, flag)
		}
	}
}

// cloudDashboard is the part of Cloud Monitoring's Dashboard resource the generated
// dashboards may use: decoding refuses any other field.
type cloudDashboard struct {
	DisplayName  string `json:"displayName"`
	MosaicLayout struct {
		Columns int `json:"columns"`
		Tiles   []struct {
			XPos, YPos, Width, Height int
			Widget                    struct {
				Title   string `json:"title"`
				XYChart struct {
					DataSets []struct {
						TimeSeriesQuery struct {
							PrometheusQuery string `json:"prometheusQuery"`
						} `json:"timeSeriesQuery"`
						PlotType   string `json:"plotType"`
						TargetAxis string `json:"targetAxis"`
					} `json:"dataSets"`
					ChartOptions struct {
						Mode string `json:"mode"`
					} `json:"chartOptions"`
					YAxis struct {
						Label string `json:"label"`
						Scale string `json:"scale"`
					} `json:"yAxis"`
				} `json:"xyChart"`
			} `json:"widget"`
		} `json:"tiles"`
	} `json:"mosaicLayout"`
}

// parseCloudDashboard decodes a Cloud Monitoring dashboard and checks its shape: a title,
// a mosaic layout of at most 100 tiles inside its columns, each a titled line chart of
// PromQL queries. It returns the queries.
func parseCloudDashboard(t *testing.T, name string, raw []byte) []string {
	t.Helper()
	var d cloudDashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: not a Cloud Monitoring dashboard as generated: %v", name, err)
	}
	layout := d.MosaicLayout
	switch {
	case d.DisplayName == "":
		t.Errorf("%s: no displayName", name)
	case layout.Columns < 1 || layout.Columns > 48:
		t.Errorf("%s: %d columns, Cloud Monitoring allows 1 to 48", name, layout.Columns)
	case len(layout.Tiles) == 0 || len(layout.Tiles) > 100:
		t.Errorf("%s: %d tiles, Cloud Monitoring allows 1 to 100 widgets", name, len(layout.Tiles))
	}
	var queries []string
	for i, tile := range layout.Tiles {
		if tile.Width < 1 || tile.Height < 1 || tile.XPos < 0 || tile.XPos+tile.Width > layout.Columns {
			t.Errorf("%s tile %d: x %d width %d height %d, outside the %d columns", name, i, tile.XPos, tile.Width, tile.Height, layout.Columns)
		}
		chart := tile.Widget.XYChart
		if tile.Widget.Title == "" || len(chart.DataSets) == 0 {
			t.Errorf("%s tile %d: a chart without title or data", name, i)
		}
		for _, ds := range chart.DataSets {
			if ds.TimeSeriesQuery.PrometheusQuery == "" || ds.PlotType != "LINE" || ds.TargetAxis != "Y1" {
				t.Errorf("%s tile %d: data set %+v", name, i, ds)
			}
			queries = append(queries, ds.TimeSeriesQuery.PrometheusQuery)
		}
	}
	return queries
}

// grafanaPanel is the part of a Grafana panel the generated dashboards use.
type grafanaPanel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// parseGrafanaDashboard decodes a Grafana dashboard and returns its queries, checking
// that every chart reads the local Prometheus datasource.
func parseGrafanaDashboard(t *testing.T, name string, raw []byte) []string {
	t.Helper()
	var d struct {
		UID    string         `json:"uid"`
		Title  string         `json:"title"`
		Panels []grafanaPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Errorf("%s: uid %q, title %q, %d panels", name, d.UID, d.Title, len(d.Panels))
	}
	var queries []string
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != dashboards.GrafanaDatasource || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q does not query the %s datasource", name, p.Title, dashboards.GrafanaDatasource)
			}
			for _, target := range p.Targets {
				queries = append(queries, target.Expr)
			}
		}
	}
	walk(d.Panels)
	return queries
}

// metricRef is a metric in a query: a name before {...} or [range] (the generated
// queries write every series as name{...}), or any Cloud Monitoring name, which the alert
// policies also write bare.
var metricRef = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)[{\[]|([A-Za-z_]+_googleapis_com:[A-Za-z0-9_]+)`)

// seriesOf are the names of the catalogue's series in a dialect.
func seriesOf(d dashboards.Dialect) map[string]bool {
	out := map[string]bool{}
	for _, m := range dashboards.Catalogue() {
		if m.CloudOnly && d.Name != dashboards.CloudMonitoring.Name {
			continue
		}
		for _, s := range d.Series(m) {
			out[s] = true
		}
	}
	return out
}

// readsCatalogue checks that every metric a query names is a series of the catalogue.
func readsCatalogue(t *testing.T, where string, d dashboards.Dialect, queries []string) {
	t.Helper()
	known := seriesOf(d)
	for _, q := range queries {
		refs := metricRef.FindAllStringSubmatch(q, -1)
		if len(refs) == 0 {
			t.Errorf("%s: %q names no metric", where, q)
		}
		for _, r := range refs {
			if name := r[1] + r[2]; !known[name] {
				t.Errorf("%s: %q reads %s, which is not a %s series of the metric catalogue", where, q, name, d.Name)
			}
		}
	}
}

// The committed dashboards have the shape their backend takes, read only catalogue
// metrics (in each backend's names), and the functions dashboards show every registered
// function.
func TestDashboards(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	shown := regexp.MustCompile(`function="([^"]+)"`)
	for _, c := range []struct {
		dir     string
		dialect dashboards.Dialect
		parse   func(*testing.T, string, []byte) []string
	}{
		{cloudDashboardsDir, dashboards.CloudMonitoring, parseCloudDashboard},
		{grafanaDashboardsDir, dashboards.Prometheus, parseGrafanaDashboard},
	} {
		var functions []string
		for name, raw := range committedDashboards(t, c.dir) {
			queries := c.parse(t, name, raw)
			readsCatalogue(t, c.dir+"/"+name, c.dialect, queries)
			if strings.HasPrefix(name, "functions") {
				for _, q := range queries {
					for _, m := range shown.FindAllStringSubmatch(q, -1) {
						functions = append(functions, m[1])
					}
				}
			}
		}
		assertSet(t, "functions on the functions dashboard in "+c.dir, slices.Compact(slices.Sorted(slices.Values(functions))), slices.Collect(maps.Keys(tr.fns)))
	}
}

// The catalogue's names are the exporters' (checked against
// github.com/prometheus/otlptranslator and the Cloud Monitoring exporter once, written
// down here so that a change to the naming code shows).
func TestDashboardMetricNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		m            dashboards.Metric
		cloud, local []string
	}{
		{dashboards.RequestDuration,
			[]string{"workload_googleapis_com:http_server_request_duration_bucket", "workload_googleapis_com:http_server_request_duration_sum", "workload_googleapis_com:http_server_request_duration_count"},
			[]string{"http_server_request_duration_seconds_bucket", "http_server_request_duration_seconds_sum", "http_server_request_duration_seconds_count"}},
		{dashboards.OutboxOldestAge, []string{"workload_googleapis_com:market_outbox_oldest_age"}, []string{"market_outbox_oldest_age_seconds"}},
		{dashboards.OutboxBacklog, []string{"workload_googleapis_com:market_outbox_backlog"}, []string{"market_outbox_backlog"}},
		{dashboards.RelayFailures, []string{"workload_googleapis_com:market_relay_publish_failures"}, []string{"market_relay_publish_failures_total"}},
		{dashboards.ChatConnections, []string{"workload_googleapis_com:market_chat_connections"}, []string{"market_chat_connections"}},
		{dashboards.QueuePosition,
			[]string{"workload_googleapis_com:market_reservations_queue_position_bucket", "workload_googleapis_com:market_reservations_queue_position_sum", "workload_googleapis_com:market_reservations_queue_position_count"},
			[]string{"market_reservations_queue_position_bucket", "market_reservations_queue_position_sum", "market_reservations_queue_position_count"}},
		{dashboards.PubSubDeadLetters, []string{"pubsub_googleapis_com:subscription_dead_letter_message_count"}, nil},
	} {
		if got := dashboards.CloudMonitoring.Series(c.m); !slices.Equal(got, c.cloud) {
			t.Errorf("%s in Cloud Monitoring: %v, want %v", c.m.Name, got, c.cloud)
		}
		if c.local == nil {
			continue
		}
		if got := dashboards.Prometheus.Series(c.m); !slices.Equal(got, c.local) {
			t.Errorf("%s in Prometheus: %v, want %v", c.m.Name, got, c.local)
		}
	}
	for attr, want := range map[string][2]string{
		"http.response.status_code": {"http_response_status_code", "http_response_status_code"},
		dashboards.ServiceAttribute: {"service_name", "job"},
	} {
		if got := [2]string{dashboards.CloudMonitoring.Label(attr), dashboards.Prometheus.Label(attr)}; got != want {
			t.Errorf("attribute %s is labelled %v, want %v", attr, got, want)
		}
	}
}
