# The dashboards `make manifest` generates from the function registry and the metric
# catalogue (infra/dashboards): one Cloud Monitoring dashboard per file in dashboards/
# (functions, in pages of at most 100 widgets, backbone, deal hot path, chat), so a new
# function or dashboard needs `make manifest` and `terraform apply`, nothing more. The
# same dashboards for a local Grafana are in infra/compose/observability/grafana.
resource "google_monitoring_dashboard" "generated" {
  for_each = fileset("${path.module}/dashboards", "*.json")

  dashboard_json = file("${path.module}/dashboards/${each.value}")

  depends_on = [google_project_service.enabled]
}
