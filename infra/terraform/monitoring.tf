# Monitoring: log-based metrics from the platform's structured logs and alert policies on
# them. The 5xx rate and p99 latency come from every function's access log line
# (shared/api: message "request" with Cloud Logging's httpRequest), the outbox lag from
# the outbox-lag probe, dead letters from the relay's and the bridge's log lines and, on
# Pub/Sub, from the subscriptions' dead-letter counts.
#
# An alert policy is created only after the metrics its filter names (depends_on, however
# the filter names them), and after time_sleep.log_metrics_known: Cloud Monitoring refuses
# a policy on a metric whose descriptor it has not learnt yet (404), which for a new
# log-based metric takes up to a couple of minutes (hashicorp/terraform-provider-google#11102).

# The probe: infra/cmd/outbox-lag from the functions image, run every minute.
resource "google_cloud_run_v2_job" "outbox_lag" {
  name                = "outbox-lag"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1

    template {
      service_account = google_service_account.monitor.email
      timeout         = "60s"
      max_retries     = 0

      vpc_access {
        network_interfaces {
          network    = local.vpc_network
          subnetwork = local.vpc_subnetwork
        }
        egress = "PRIVATE_RANGES_ONLY"
      }

      containers {
        image   = local.images.functions
        command = ["/outbox-lag"]

        dynamic "env" {
          for_each = local.common_env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = local.monitor_secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = google_secret_manager_secret.app[env.value].secret_id
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.monitor]
}

resource "google_cloud_run_v2_job_iam_member" "outbox_lag_scheduler" {
  name     = google_cloud_run_v2_job.outbox_lag.name
  location = var.region
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

resource "google_cloud_scheduler_job" "outbox_lag" {
  name             = "outbox-lag"
  region           = var.region
  schedule         = "* * * * *"
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"
  description      = "Measures the outbox relay's lag for the outbox-lag alert."

  retry_config {
    retry_count = 0
  }

  # Jobs are started through the Cloud Run Admin API, with an OAuth (not OIDC) token.
  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.outbox_lag.name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.outbox_lag_scheduler]
}

locals {
  # One access log line per request, written to stdout by every function and the chat
  # server; Cloud Logging lifts its httpRequest field into the entry.
  access_log_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "log_id(\"run.googleapis.com/stdout\")",
    "jsonPayload.message=\"request\"",
  ])
  # The log lines of events that need an operator: parked on a dead-letter topic by the
  # relay (outbox-relay/relay.go) or the push bridge (outbox-relay/bridge), or given up by
  # the relay's reconciliation after redeliveries a consumer never recorded
  # (outbox-relay/reconcile.go; the row is FAILED in messaging.outbox).
  dead_letter_messages = [
    "outbox row dead-lettered",
    "outbox row failed and could not be dead-lettered; it stays FAILED in messaging.outbox",
    "event dead-lettered",
    "event never recorded by its consumers; redelivery given up",
  ]
  alert_channels = google_monitoring_notification_channel.email[*].id
}

resource "google_monitoring_notification_channel" "email" {
  count = var.alerts.email == "" ? 0 : 1

  display_name = "8949 market ${var.environment} on-call"
  type         = "email"
  labels = {
    email_address = var.alerts.email
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "requests" {
  name   = "market/requests"
  filter = local.access_log_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key         = "service"
      value_type  = "STRING"
      description = "Cloud Run service: the function name, or chat-server"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "server_errors" {
  name   = "market/server_errors"
  filter = "${local.access_log_filter} AND httpRequest.status>=500"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "latency" {
  name            = "market/request_latency"
  filter          = local.access_log_filter
  value_extractor = "REGEXP_EXTRACT(httpRequest.latency, \"([0-9.]+)s\")"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
    labels {
      key        = "service"
      value_type = "STRING"
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 48
      growth_factor      = 1.4
      scale              = 0.001
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "outbox_lag" {
  name            = "market/outbox_lag"
  filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${google_cloud_run_v2_job.outbox_lag.name}\" AND jsonPayload.message=\"outbox lag\""
  value_extractor = "EXTRACT(jsonPayload.outboxLagSeconds)"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
  }
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 2
      scale              = 0.01
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "dead_letters" {
  name   = "market/dead_letters"
  filter = "resource.type=\"cloud_run_revision\" AND (${join(" OR ", [for m in local.dead_letter_messages : "jsonPayload.message=\"${m}\""])})"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key        = "topic"
      value_type = "STRING"
    }
  }
  label_extractors = {
    topic = "EXTRACT(jsonPayload.topic)"
  }

  depends_on = [google_project_service.enabled]
}

# The wait for Cloud Monitoring to learn the log-based metrics: once when they are created,
# again only when one is replaced (triggers), never on an apply that changes none.
resource "time_sleep" "log_metrics_known" {
  create_duration = "150s"

  triggers = {
    requests      = google_logging_metric.requests.id
    server_errors = google_logging_metric.server_errors.id
    latency       = google_logging_metric.latency.id
    outbox_lag    = google_logging_metric.outbox_lag.id
    dead_letters  = google_logging_metric.dead_letters.id
  }
}

resource "google_monitoring_alert_policy" "error_rate" {
  display_name          = "8949 market ${var.environment}: 5xx rate"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "5xx share of requests above ${var.alerts.error_ratio} for 5 minutes, per service"
    condition_threshold {
      filter             = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.server_errors.name}\" AND resource.type=\"cloud_run_revision\""
      denominator_filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.requests.name}\" AND resource.type=\"cloud_run_revision\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alerts.error_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
    }
  }

  documentation {
    content = "A service answers 5xx to more than ${var.alerts.error_ratio * 100}% of requests. Its logs (severity ERROR, message \"request failed\") carry the trace id; see docs/deploy.md, Rollback."
  }

  depends_on = [google_logging_metric.server_errors, google_logging_metric.requests, time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "latency" {
  display_name          = "8949 market ${var.environment}: p99 latency"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "p99 request latency above ${var.alerts.p99_latency_seconds}s for 10 minutes, per service"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.latency.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.p99_latency_seconds
      duration        = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
        group_by_fields      = ["metric.label.service"]
      }
    }
  }

  depends_on = [google_logging_metric.latency, time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "outbox_lag" {
  display_name          = "8949 market ${var.environment}: outbox lag"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "oldest unpublished outbox row older than ${var.alerts.outbox_lag_seconds}s"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.outbox_lag.name}\" AND resource.type=\"cloud_run_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.outbox_lag_seconds
      duration        = "120s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
      }
    }
  }

  # A probe that stops reporting is as bad as lag: nobody would know.
  conditions {
    display_name = "outbox lag probe silent for 10 minutes"
    condition_absent {
      filter   = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.outbox_lag.name}\" AND resource.type=\"cloud_run_job\""
      duration = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
      }
    }
  }

  documentation {
    content = "Events are committed but not published. Check the outbox-relay service (min 1 instance) and its logs; rows and their last_error are in messaging.outbox."
  }

  depends_on = [google_logging_metric.outbox_lag, time_sleep.log_metrics_known]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "8949 market ${var.environment}: dead letters"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "relay or push bridge parked an event, or the relay gave up redelivering one"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.dead_letters.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.topic"]
      }
    }
  }

  dynamic "conditions" {
    for_each = var.backbone == "pubsub" ? [1] : []
    content {
      display_name = "a push subscription dead-lettered a message"
      condition_threshold {
        filter          = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\""
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "0s"
        aggregations {
          alignment_period     = "300s"
          per_series_aligner   = "ALIGN_DELTA"
          cross_series_reducer = "REDUCE_SUM"
          group_by_fields      = ["resource.label.subscription_id"]
        }
      }
    }
  }

  documentation {
    content = "An event reached its dead-letter topic (<topic>.dlt; on Pub/Sub the <topic>.dlt.hold subscription keeps it), or a consumer never recorded an event the relay redelivered (FAILED in messaging.outbox). `make deadletters` lists them with their errors; find the cause in the consumer's logs, fix, then `make deadletters-replay` (docs/deploy.md, Dead letters)."
  }

  depends_on = [google_logging_metric.dead_letters, time_sleep.log_metrics_known]
}
