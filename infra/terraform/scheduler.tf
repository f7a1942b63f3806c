# One Cloud Scheduler job per scheduled function of the registry, POSTing to its service
# with an OIDC token (audience = the service URL).
resource "google_cloud_scheduler_job" "function" {
  for_each = local.scheduled_functions

  name             = each.key
  region           = var.region
  schedule         = each.value.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "120s"
  description      = "Runs the scheduled function ${each.key}."

  # The next run is a minute away and the functions are idempotent: no retries to pile up.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = local.function_urls[each.key]

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = local.function_urls[each.key]
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler, google_project_service.enabled]
}
