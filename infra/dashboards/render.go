package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/8949market/market/shared/registry"
)

// The files Build's dashboards are written to, from the repository root, one
// <name>.json each (make manifest: cmd/manifest -dashboards and -grafana).
const (
	CloudMonitoringDir = "infra/terraform/dashboards"
	GrafanaDir         = "infra/compose/observability/grafana/dashboards"
)

// GrafanaDatasource is the uid of the local Prometheus datasource every Grafana panel
// queries.
const GrafanaDatasource = "prometheus"

// Cloud Monitoring's mosaic layout: 48 columns, every row of panels one tile high, and at
// most MaxTiles widgets on a dashboard (Cloud Monitoring's limit on custom dashboards,
// 100 since May 2025).
const (
	mosaicColumns = 48
	tileHeight    = 16
	MaxTiles      = 100
)

// CloudMonitoringPages is d as Cloud Monitoring dashboards of at most MaxTiles widgets:
// d itself when it fits, else consecutive pages of whole rows, named <name>-<n> and
// titled "<title> (n/m)". Grafana has no such limit and takes d whole.
func CloudMonitoringPages(d Dashboard) ([]Dashboard, error) {
	var pages []Dashboard
	tiles := MaxTiles
	for _, r := range d.Rows {
		if len(r.Panels) > MaxTiles {
			return nil, fmt.Errorf("dashboard %s: row %q has %d panels, more than Cloud Monitoring's %d", d.Name, r.Title, len(r.Panels), MaxTiles)
		}
		if tiles+len(r.Panels) > MaxTiles {
			pages = append(pages, Dashboard{})
			tiles = 0
		}
		pages[len(pages)-1].Rows = append(pages[len(pages)-1].Rows, r)
		tiles += len(r.Panels)
	}
	if len(pages) <= 1 {
		return []Dashboard{d}, nil
	}
	for i := range pages {
		pages[i].Name = fmt.Sprintf("%s-%d", d.Name, i+1)
		pages[i].Title = fmt.Sprintf("%s (%d/%d)", d.Title, i+1, len(pages))
	}
	return pages, nil
}

// CloudMonitoringJSON is d as a Cloud Monitoring dashboard (the body of
// google_monitoring_dashboard's dashboard_json): a mosaic layout of line charts, each
// line a PromQL query on the metrics Google's OpenTelemetry exporter writes.
func CloudMonitoringJSON(d Dashboard) ([]byte, error) {
	var tiles []cmTile
	y := 0
	for _, r := range d.Rows {
		width := mosaicColumns / len(r.Panels)
		for i, p := range r.Panels {
			chart := cmXYChart{ChartOptions: cmChartOptions{Mode: "COLOR"}, YAxis: cmAxis{Label: string(p.Unit), Scale: "LINEAR"}}
			for _, q := range p.Queries {
				chart.DataSets = append(chart.DataSets, cmDataSet{
					TimeSeriesQuery: cmQuery{PrometheusQuery: q.Expr.Render(CloudMonitoring)},
					PlotType:        "LINE",
					TargetAxis:      "Y1",
				})
			}
			tiles = append(tiles, cmTile{
				XPos: i * width, YPos: y, Width: width, Height: tileHeight,
				Widget: cmWidget{Title: p.Title, XYChart: chart},
			})
		}
		y += tileHeight
	}
	return encode(d.Name, cmDashboard{DisplayName: d.Title, MosaicLayout: cmMosaic{Columns: mosaicColumns, Tiles: tiles}})
}

// The Cloud Monitoring Dashboard resource, as much of it as these dashboards use
// (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards). Zero
// positions are left out, as the API answers them, so Terraform sees no difference.
type (
	cmDashboard struct {
		DisplayName  string   `json:"displayName"`
		MosaicLayout cmMosaic `json:"mosaicLayout"`
	}
	cmMosaic struct {
		Columns int      `json:"columns"`
		Tiles   []cmTile `json:"tiles"`
	}
	cmTile struct {
		XPos   int      `json:"xPos,omitempty"`
		YPos   int      `json:"yPos,omitempty"`
		Width  int      `json:"width"`
		Height int      `json:"height"`
		Widget cmWidget `json:"widget"`
	}
	cmWidget struct {
		Title   string    `json:"title"`
		XYChart cmXYChart `json:"xyChart"`
	}
	cmXYChart struct {
		DataSets     []cmDataSet    `json:"dataSets"`
		ChartOptions cmChartOptions `json:"chartOptions"`
		YAxis        cmAxis         `json:"yAxis"`
	}
	cmDataSet struct {
		TimeSeriesQuery cmQuery `json:"timeSeriesQuery"`
		PlotType        string  `json:"plotType"`
		TargetAxis      string  `json:"targetAxis"`
	}
	cmQuery struct {
		PrometheusQuery string `json:"prometheusQuery"`
	}
	cmChartOptions struct {
		Mode string `json:"mode"`
	}
	cmAxis struct {
		Label string `json:"label"`
		Scale string `json:"scale"`
	}
)

// Grafana's grid: 24 columns.
const (
	grafanaColumns = 24
	panelHeight    = 8
	// collapseAbove is how many rows a dashboard may have before they start collapsed
	// (the functions dashboard: one row per function).
	collapseAbove = 8
)

// grafanaUnits are Grafana's names of the panel units.
var grafanaUnits = map[Unit]string{PerSecond: "ops", Seconds: "s", Share: "percentunit", Count: "short"}

// legendAttribute matches {{attribute}} in a legend.
var legendAttribute = regexp.MustCompile(`\{\{([^}]+)\}\}`)

// GrafanaJSON is d as a Grafana dashboard on the local Prometheus (datasource uid
// GrafanaDatasource), with the same rows, panels and queries as CloudMonitoringJSON in
// the exporter's local names. Panels on a metric only Cloud Monitoring has are left out.
func GrafanaJSON(d Dashboard) ([]byte, error) {
	ds := grafanaDatasource{Type: "prometheus", UID: GrafanaDatasource}
	collapsed := len(d.Rows) > collapseAbove
	var panels []grafanaPanel
	id, y := 0, 0
	for _, r := range d.Rows {
		visible := slices.DeleteFunc(slices.Clone(r.Panels), Panel.CloudOnly)
		if len(visible) == 0 {
			continue
		}
		id++
		row := grafanaPanel{ID: id, Type: "row", Title: r.Title, Collapsed: collapsed, GridPos: grafanaGrid{H: 1, W: grafanaColumns, Y: y}}
		y++
		width := grafanaColumns / len(visible)
		var inRow []grafanaPanel
		for _, p := range visible {
			id++
			gp := grafanaPanel{
				ID: id, Type: "timeseries", Title: p.Title, Datasource: &ds,
				GridPos:     grafanaGrid{H: panelHeight, W: width, X: len(inRow) * width, Y: y},
				FieldConfig: &grafanaFieldConfig{Defaults: grafanaDefaults{Unit: grafanaUnits[p.Unit]}, Overrides: []any{}},
			}
			for i, q := range p.Queries {
				gp.Targets = append(gp.Targets, grafanaTarget{
					RefID: string(rune('A' + i)), Datasource: &ds, Expr: q.Expr.Render(Prometheus),
					LegendFormat: legendAttribute.ReplaceAllStringFunc(q.Legend, func(m string) string {
						return "{{" + Prometheus.Label(m[2:len(m)-2]) + "}}"
					}),
				})
			}
			inRow = append(inRow, gp)
		}
		if collapsed {
			// A collapsed row holds its panels; they take no height until it opens.
			row.Panels = inRow
			panels = append(panels, row)
			continue
		}
		panels = append(panels, row)
		panels = append(panels, inRow...)
		y += panelHeight
	}
	return encode(d.Name, grafanaDashboard{
		UID: "market-" + d.Name, Title: d.Title,
		Description:   "Generated from the function registry by `make manifest` (infra/dashboards); do not edit.",
		Tags:          []string{"8949-market"},
		Timezone:      "utc",
		SchemaVersion: 39,
		Editable:      false,
		Refresh:       "30s",
		Time:          grafanaTime{From: "now-1h", To: "now"},
		Panels:        panels,
	})
}

// A Grafana dashboard, as much of it as these dashboards use.
type (
	grafanaDashboard struct {
		UID           string         `json:"uid"`
		Title         string         `json:"title"`
		Description   string         `json:"description"`
		Tags          []string       `json:"tags"`
		Timezone      string         `json:"timezone"`
		SchemaVersion int            `json:"schemaVersion"`
		Editable      bool           `json:"editable"`
		Refresh       string         `json:"refresh"`
		Time          grafanaTime    `json:"time"`
		Panels        []grafanaPanel `json:"panels"`
	}
	grafanaTime struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	grafanaPanel struct {
		ID          int                 `json:"id"`
		Type        string              `json:"type"`
		Title       string              `json:"title"`
		Collapsed   bool                `json:"collapsed,omitempty"`
		Datasource  *grafanaDatasource  `json:"datasource,omitempty"`
		GridPos     grafanaGrid         `json:"gridPos"`
		FieldConfig *grafanaFieldConfig `json:"fieldConfig,omitempty"`
		Targets     []grafanaTarget     `json:"targets,omitempty"`
		Panels      []grafanaPanel      `json:"panels,omitempty"`
	}
	grafanaDatasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	grafanaGrid struct {
		H int `json:"h"`
		W int `json:"w"`
		X int `json:"x"`
		Y int `json:"y"`
	}
	grafanaFieldConfig struct {
		Defaults  grafanaDefaults `json:"defaults"`
		Overrides []any           `json:"overrides"`
	}
	grafanaDefaults struct {
		Unit string `json:"unit"`
	}
	grafanaTarget struct {
		RefID        string             `json:"refId"`
		Datasource   *grafanaDatasource `json:"datasource"`
		Expr         string             `json:"expr"`
		LegendFormat string             `json:"legendFormat"`
	}
)

// encode writes v as indented JSON, with PromQL's < and > as they are.
func encode(name string, v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode dashboard %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Files are the dashboards of fns as files: file name (<name>.json) => contents, for
// CloudMonitoringDir (a dashboard past MaxTiles in pages, CloudMonitoringPages) and for
// GrafanaDir.
func Files(fns []registry.Function) (cloud, grafana map[string][]byte, err error) {
	ds, err := Build(fns)
	if err != nil {
		return nil, nil, err
	}
	cloud, grafana = map[string][]byte{}, map[string][]byte{}
	for _, d := range ds {
		pages, err := CloudMonitoringPages(d)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range pages {
			if cloud[p.Name+".json"], err = CloudMonitoringJSON(p); err != nil {
				return nil, nil, err
			}
		}
		if grafana[d.Name+".json"], err = GrafanaJSON(d); err != nil {
			return nil, nil, err
		}
	}
	return cloud, grafana, nil
}
