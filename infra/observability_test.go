package infra_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/8949market/market/infra/dashboards"
)

// Terraform creates a Cloud Monitoring dashboard from every generated file, and each is
// the file as committed.
func TestDashboardsInTerraform(t *testing.T) {
	t.Parallel()
	files := committedDashboards(t, cloudDashboardsDir)
	for _, backbone := range backbones {
		e := evaluateFor(t, backbone)
		insts := e.instances(t, "google_monitoring_dashboard.generated")
		assertSet(t, "google_monitoring_dashboard.generated", slices.Collect(maps.Keys(insts)), slices.Collect(maps.Keys(files)))
		for key, in := range insts {
			got := in.str(t, "dashboard_json")
			if raw, ok := files[key]; ok && got != string(raw) {
				t.Errorf("google_monitoring_dashboard.generated[%q] is not %s/%s", key, cloudDashboardsDir, key)
			}
			parseCloudDashboard(t, key, []byte(got))
		}
	}
}

// alertsInput is var.alerts with the given channels and thresholds.
func alertsInput(email, webhook string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"email": cty.StringVal(email), "webhook_url": cty.StringVal(webhook),
		"error_ratio": cty.NumberFloatVal(0.05), "p99_latency_seconds": cty.NumberFloatVal(2.5),
		"outbox_lag_seconds": cty.NumberIntVal(90), "consumer_lag_seconds": cty.NumberIntVal(45),
		"chat_error_rate": cty.NumberFloatVal(0.25),
	})
}

// promQueries evaluates the PromQL conditions of an alert policy instance.
func promQueries(t *testing.T, in *instance) []string {
	t.Helper()
	var out []string
	for _, c := range in.blocks("conditions", "condition_prometheus_query_language") {
		v, diags := c.Body.Attributes["query"].Expr.Value(in.ctx)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out = append(out, v.AsString())
		if m, ok := c.Body.Attributes["disable_metric_validation"]; !ok || hcl.ExprAsKeyword(m.Expr) != "true" {
			t.Errorf("a PromQL condition validates its metrics: the first apply fails before any service has exported them")
		}
	}
	return out
}

// The alert policies: one per signal, on the services' metrics (PromQL on the catalogue,
// with the thresholds of var.alerts), each to every configured channel; the e-mail and
// webhook channels exist when configured, and only then.
func TestAlertPolicies(t *testing.T) {
	t.Parallel()
	m := loadModule(t)
	// Every policy notifies local.alert_channels, which names every channel.
	channels := map[string]bool{}
	for _, tr := range m.locals["alert_channels"].Expr.Variables() {
		if tr.RootName() == "google_monitoring_notification_channel" {
			channels[tr[1].(hcl.TraverseAttr).Name] = true
		}
	}
	for key, b := range m.resources {
		switch {
		case strings.HasPrefix(key, "google_monitoring_notification_channel."):
			if !channels[b.Labels[1]] {
				t.Errorf("local.alert_channels leaves out %s", key)
			}
		case strings.HasPrefix(key, "google_monitoring_alert_policy."):
			a, ok := b.Body.Attributes["notification_channels"]
			if !ok || strings.TrimSpace(string(a.Expr.Range().SliceBytes(m.sources[filepath.Base(a.SrcRange.Filename)]))) != "local.alert_channels" {
				t.Errorf("%s does not notify local.alert_channels", key)
			}
		}
	}

	// What each policy on the services' metrics watches, and the threshold it takes.
	policies := map[string]struct {
		metric    dashboards.Metric
		by, above string
	}{
		"error_rate":   {dashboards.RequestDuration, "function", "> 0.05"},
		"latency":      {dashboards.RequestDuration, "function", "> 2.5"},
		"outbox_lag":   {dashboards.OutboxOldestAge, "", "> 90"},
		"consumer_lag": {dashboards.ConsumerLag, "consumer", "> 45"},
		"dead_letters": {dashboards.DeadLetters, "topic", "> 0"},
		"chat_errors":  {dashboards.ChatErrors, "", "> 0.25"},
	}
	for _, backbone := range backbones {
		for _, c := range []struct{ email, webhook string }{
			{"", ""}, {"oncall@example.com", ""}, {"", "https://alerts.example.com/hook?auth_token=x"}, {"oncall@example.com", "https://alerts.example.com/hook"},
		} {
			t.Run(fmt.Sprintf("%s/%q/%q", backbone, c.email, c.webhook), func(t *testing.T) {
				t.Parallel()
				e := evaluateWith(t, backbone, map[string]cty.Value{"alerts": alertsInput(c.email, c.webhook)})
				email := e.instances(t, "google_monitoring_notification_channel.email")
				webhook := e.instances(t, "google_monitoring_notification_channel.webhook")
				if (len(email) == 1) != (c.email != "") || len(email) > 1 {
					t.Errorf("%d e-mail channels for email %q", len(email), c.email)
				}
				if (len(webhook) == 1) != (c.webhook != "") || len(webhook) > 1 {
					t.Errorf("%d webhook channels for webhook_url %q", len(webhook), c.webhook)
				}
				for _, in := range webhook {
					if in.str(t, "type") != "webhook_tokenauth" || in.value(t, "labels").GetAttr("url").AsString() != c.webhook {
						t.Errorf("webhook channel: type %s, labels %#v", in.str(t, "type"), in.value(t, "labels"))
					}
				}
				for _, in := range email {
					if got := in.value(t, "labels").GetAttr("email_address").AsString(); got != c.email {
						t.Errorf("e-mail channel to %s, want %s", got, c.email)
					}
				}

				pubsub := e.instances(t, "google_monitoring_alert_policy.pubsub_dead_letters")
				// On Kafka too: the storage topics' push subscriptions dead-letter on Pub/Sub.
				if len(pubsub) != 1 {
					t.Errorf("%d Pub/Sub dead-letter policies on %s, want 1", len(pubsub), backbone)
				}
				for name, want := range policies {
					in, ok := e.instances(t, "google_monitoring_alert_policy."+name)[""]
					if !ok {
						t.Errorf("no alert policy %s", name)
						continue
					}
					queries := promQueries(t, in)
					if len(queries) != 1 || len(in.blocks("conditions")) != 1 {
						t.Errorf("%s: %d PromQL queries in %d conditions, want one condition with one", name, len(queries), len(in.blocks("conditions")))
						continue
					}
					q := queries[0]
					readsCatalogue(t, "alert policy "+name, dashboards.CloudMonitoring, queries)
					series := dashboards.CloudMonitoring.Series(want.metric)
					if !slices.ContainsFunc(series, func(s string) bool {
						return strings.Contains(q, s+"{") || strings.Contains(q, s+"[") || strings.Contains(q, s+")")
					}) {
						t.Errorf("%s: %q does not read %s", name, q, want.metric.Name)
					}
					if want.by != "" && !regexp.MustCompile(`by \([^)]*\b`+want.by+`\b`).MatchString(q) {
						t.Errorf("%s: %q is not per %s", name, q, want.by)
					}
					if !strings.Contains(q, want.above) {
						t.Errorf("%s: %q does not alert %s", name, q, want.above)
					}
				}
			})
		}
	}
}

// The services export traces and metrics to Google Cloud: the OpenTelemetry environment
// in every container, with the sample ratio of var.trace_sample_ratio, and the roles to
// write both for every identity that runs the platform's code.
func TestTelemetryExport(t *testing.T) {
	t.Parallel()
	tr := registryTruth(t)
	for _, backbone := range backbones {
		for _, ratio := range []float64{0.1, 0.25} {
			t.Run(fmt.Sprintf("%s/%v", backbone, ratio), func(t *testing.T) {
				t.Parallel()
				var inputs map[string]cty.Value
				if ratio != 0.1 {
					inputs = map[string]cty.Value{"trace_sample_ratio": cty.NumberFloatVal(ratio)}
				}
				e := evaluateWith(t, backbone, inputs)
				want := map[string]string{
					"OTEL_TRACES_EXPORTER": "gcp", "OTEL_METRICS_EXPORTER": "gcp",
					"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": fmt.Sprint(ratio),
				}
				for _, r := range []string{"google_cloud_run_v2_service.function", "google_cloud_run_v2_service.relay", "google_cloud_run_v2_service.chat"} {
					for key, in := range e.instances(t, r) {
						env := in.env(t, "template", "containers")
						for name, v := range want {
							if env[name].value != v {
								t.Errorf("%s[%s]: %s=%q, want %q", r, key, name, env[name].value, v)
							}
						}
					}
				}

				granted := map[string][]string{} // member => roles
				for _, in := range e.instances(t, "google_project_iam_member.telemetry") {
					member := in.str(t, "member")
					granted[member] = append(granted[member], in.str(t, "role"))
				}
				members := []string{"serviceAccount:" + account("outbox-relay"), "serviceAccount:" + account("chat-server"), "serviceAccount:" + account("migrate"), "serviceAccount:" + account("outbox-lag")}
				accounts := e.instances(t, "google_service_account.function")
				for _, name := range tr.own {
					if a, ok := accounts[name]; ok {
						members = append(members, "serviceAccount:"+account(a.str(t, "account_id")))
					}
				}
				for _, m := range members {
					if roles := slices.Sorted(slices.Values(granted[m])); !slices.Equal(roles, []string{"roles/cloudtrace.agent", "roles/monitoring.metricWriter"}) {
						t.Errorf("%s may write %v, want roles/cloudtrace.agent and roles/monitoring.metricWriter", m, roles)
					}
				}
				assertSet(t, "identities that write telemetry", slices.Collect(maps.Keys(granted)), members)
			})
		}
	}
}

// var.alerts and var.trace_sample_ratio take what makes sense and the plan refuses the
// rest.
func TestAlertsAndSamplingValidation(t *testing.T) {
	t.Parallel()
	alerts := func(change map[string]cty.Value) cty.Value {
		v := alertsInput("", "").AsValueMap()
		maps.Copy(v, change)
		return cty.ObjectVal(v)
	}
	for _, c := range []struct {
		name   string
		inputs map[string]cty.Value
		refuse string // the variable that refuses, or ""
	}{
		{"defaults", nil, ""},
		{"channels", map[string]cty.Value{"alerts": alertsInput("oncall@example.com", "https://alerts.example.com/hook")}, ""},
		{"ratio 0", map[string]cty.Value{"trace_sample_ratio": cty.NumberIntVal(0)}, ""},
		{"ratio 1", map[string]cty.Value{"trace_sample_ratio": cty.NumberIntVal(1)}, ""},
		{"ratio 1.5", map[string]cty.Value{"trace_sample_ratio": cty.NumberFloatVal(1.5)}, "var.trace_sample_ratio"},
		{"ratio -0.1", map[string]cty.Value{"trace_sample_ratio": cty.NumberFloatVal(-0.1)}, "var.trace_sample_ratio"},
		{"error ratio 0", map[string]cty.Value{"alerts": alerts(map[string]cty.Value{"error_ratio": cty.NumberIntVal(0)})}, "var.alerts"},
		{"error ratio 2", map[string]cty.Value{"alerts": alerts(map[string]cty.Value{"error_ratio": cty.NumberIntVal(2)})}, "var.alerts"},
		{"consumer lag 0", map[string]cty.Value{"alerts": alerts(map[string]cty.Value{"consumer_lag_seconds": cty.NumberIntVal(0)})}, "var.alerts"},
		{"chat error rate -1", map[string]cty.Value{"alerts": alerts(map[string]cty.Value{"chat_error_rate": cty.NumberIntVal(-1)})}, "var.alerts"},
		{"plain http webhook", map[string]cty.Value{"alerts": alertsInput("", "http://alerts.example.com/hook")}, "var.alerts"},
		{"not an e-mail", map[string]cty.Value{"alerts": alertsInput("oncall", "")}, "var.alerts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := evaluateWith(t, "pubsub", c.inputs)
			for _, v := range []string{"var.alerts", "var.trace_sample_ratio"} {
				refused := refusedBy(t, e, v)
				if (len(refused) > 0) != (v == c.refuse) {
					t.Errorf("%s: refusals %v, want a refusal only from %q", v, refused, c.refuse)
				}
			}
		})
	}
	// The defaults of what a tfvars file written before these were added leaves out.
	e := evaluateFor(t, "pubsub")
	a := e.vars["alerts"]
	for name, want := range map[string]cty.Value{"consumer_lag_seconds": cty.NumberIntVal(120), "chat_error_rate": cty.NumberFloatVal(0.5), "webhook_url": cty.StringVal("")} {
		if got := a.GetAttr(name); !got.RawEquals(want) && !got.Equals(want).True() {
			t.Errorf("alerts.%s defaults to %#v, want %#v", name, got, want)
		}
	}
	if got := e.local(t, "common_env").GetAttr("OTEL_TRACES_SAMPLER_ARG").AsString(); got != "0.1" {
		t.Errorf("OTEL_TRACES_SAMPLER_ARG defaults to %q, want 0.1", got)
	}
}
