# Monitoring: alert policies on the OpenTelemetry metrics the services export (Google's
# exporter writes instrument a.b.c as workload.googleapis.com/a.b.c, which PromQL reads as
# workload_googleapis_com:a_b_c; the catalogue is infra/dashboards/metrics.go, and the
# infra test checks every query here against it), to every notification channel
# configured in var.alerts. The dashboards on the same metrics are in dashboards.tf.
#
# A policy with a PromQL condition has that one condition only (Cloud Monitoring takes no
# other beside it), and disables metric validation: the workload metrics exist only once a
# service has exported them, which on a new project is after this apply.
#
# Two sources are not the services' metrics: Pub/Sub's own dead-letter count, and the
# outbox-lag probe below. The relay's market.outbox.oldest.age is the outbox lag alert;
# the probe stays as a second measurement that does not depend on the relay's code or
# exporter at all (it queries the database itself). Its log-based metric is known to
# Cloud Monitoring only some time after it is created, so that policy waits for
# time_sleep.log_metrics_known (hashicorp/terraform-provider-google#11102).

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
  # Cloud Monitoring's PromQL names of the metrics the policies read (a histogram's series
  # add _bucket, _sum and _count).
  promql = {
    request_duration  = "workload_googleapis_com:http_server_request_duration"
    outbox_oldest_age = "workload_googleapis_com:market_outbox_oldest_age"
    consumer_lag      = "workload_googleapis_com:market_consumer_lag"
    dead_letters      = "workload_googleapis_com:market_deadletters"
    chat_errors       = "workload_googleapis_com:market_chat_errors"
  }
  # Every policy notifies every configured channel.
  alert_channels = concat(
    google_monitoring_notification_channel.email[*].id,
    google_monitoring_notification_channel.webhook[*].id,
  )
  alert_doc_dead_letters = "`make deadletters` lists them with their errors; find the cause in the consumer's logs, fix, then `make deadletters-replay` (docs/deploy.md, Dead letters)."
}

resource "google_monitoring_notification_channel" "email" {
  count = nonsensitive(var.alerts.email == "") ? 0 : 1

  display_name = "8949 market ${var.environment} on-call"
  type         = "email"
  labels = {
    email_address = var.alerts.email
  }

  depends_on = [google_project_service.enabled]
}

# A webhook: Cloud Monitoring POSTs its incident JSON (with the token in the URL, if the
# URL carries one) to alerts.webhook_url. Slack's and Discord's incoming webhooks refuse
# that body (they want their own message fields), so point it at a receiver that takes
# Cloud Monitoring's payload, e.g. a small relay that posts to the chat; for Slack itself,
# add Cloud Monitoring's Slack channel in the console (it needs Slack's OAuth consent,
# which Terraform cannot give). docs/operations.md, Dashboards and alerts.
resource "google_monitoring_notification_channel" "webhook" {
  count = nonsensitive(var.alerts.webhook_url == "") ? 0 : 1

  display_name = "8949 market ${var.environment} webhook"
  type         = "webhook_tokenauth"
  labels = {
    url = var.alerts.webhook_url
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "error_rate" {
  display_name          = "8949 market ${var.environment}: 5xx share"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "5xx share of a function's requests above ${var.alerts.error_ratio} for 5 minutes"
    condition_prometheus_query_language {
      query                     = "sum by (function) (rate(${local.promql.request_duration}_count{http_response_status_code=~\"5..\"}[5m])) / sum by (function) (rate(${local.promql.request_duration}_count[5m])) > ${var.alerts.error_ratio}"
      duration                  = "300s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "A function answers 5xx to more than ${var.alerts.error_ratio * 100}% of its requests (the incident's function label). Its logs (severity ERROR) carry the trace id; the functions dashboard shows its row; see docs/deploy.md, Rollback."
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "latency" {
  display_name          = "8949 market ${var.environment}: p99 latency"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "p99 latency of a function above ${var.alerts.p99_latency_seconds}s for 10 minutes"
    condition_prometheus_query_language {
      query                     = "histogram_quantile(0.99, sum by (function, le) (rate(${local.promql.request_duration}_bucket[5m]))) > ${var.alerts.p99_latency_seconds}"
      duration                  = "600s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "A function's p99 latency (the incident's function label) is above ${var.alerts.p99_latency_seconds}s. Its traces in Cloud Trace show where the time goes; the functions dashboard shows its row."
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "outbox_lag" {
  display_name          = "8949 market ${var.environment}: outbox lag"
  combiner              = "OR"
  notification_channels = local.alert_channels

  # The relay's gauge, or no gauge at all: a relay that exports nothing is as bad as lag.
  conditions {
    display_name = "oldest PENDING outbox row older than ${var.alerts.outbox_lag_seconds}s, or the relay reports no age"
    condition_prometheus_query_language {
      query                     = "max(${local.promql.outbox_oldest_age}) > ${var.alerts.outbox_lag_seconds} or absent(${local.promql.outbox_oldest_age})"
      duration                  = "120s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "Events are committed but not published, or the relay reports nothing. Check the outbox-relay service (min 1 instance) and its logs, and the backbone dashboard; rows and their last_error are in messaging.outbox."
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "consumer_lag" {
  display_name          = "8949 market ${var.environment}: consumer lag"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "p99 lag of a consumer (event time to effect) above ${var.alerts.consumer_lag_seconds}s for 5 minutes"
    condition_prometheus_query_language {
      query                     = "histogram_quantile(0.99, sum by (consumer, le) (rate(${local.promql.consumer_lag}_bucket[5m]))) > ${var.alerts.consumer_lag_seconds}"
      duration                  = "300s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "A consumer (the incident's consumer label) applies events more than ${var.alerts.consumer_lag_seconds}s after they happened: it is failing and being retried, or the relay is slow. The backbone dashboard shows its outcomes and the relay's lag."
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "8949 market ${var.environment}: dead letters"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "the relay, the push bridge or the reconciliation dead-lettered an event"
    condition_prometheus_query_language {
      query                     = "sum by (topic, source) (increase(${local.promql.dead_letters}[5m])) > 0"
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "An event reached its dead-letter topic (<topic>.dlt; source relay or bridge), or a consumer never recorded an event the relay redelivered (source reconcile: FAILED in messaging.outbox). ${local.alert_doc_dead_letters}"
  }

  depends_on = [google_project_service.enabled]
}

# Pub/Sub dead-letters on its own, after max_delivery_attempts push attempts: on the
# Pub/Sub backbone, and on Kafka for the push subscriptions of the storage topics (Cloud
# Storage notifies only Pub/Sub).
resource "google_monitoring_alert_policy" "pubsub_dead_letters" {
  count = var.backbone == "pubsub" || length(local.storage_topics) > 0 ? 1 : 0

  display_name          = "8949 market ${var.environment}: Pub/Sub dead letters"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
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

  documentation {
    content = "A push subscription gave up on a message and parked it on <topic>.dlt (the <topic>.dlt.hold subscription keeps it). ${local.alert_doc_dead_letters}"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "chat_errors" {
  display_name          = "8949 market ${var.environment}: chat errors"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "chat server errors above ${var.alerts.chat_error_rate}/s for 5 minutes"
    condition_prometheus_query_language {
      query                     = "sum(rate(${local.promql.chat_errors}[5m])) > ${var.alerts.chat_error_rate}"
      duration                  = "300s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    content = "The chat server reports more than ${var.alerts.chat_error_rate} errors a second (market.chat.errors; the chat dashboard splits them by code). Check chat-server's logs."
  }

  depends_on = [google_project_service.enabled]
}

# The probe's log-based metric: the oldest unpublished row's age, every minute.
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

# The wait for Cloud Monitoring to learn the log-based metric: once when it is created,
# again only when it is replaced (triggers), never on an apply that changes nothing.
resource "time_sleep" "log_metrics_known" {
  create_duration = "150s"

  triggers = {
    outbox_lag = google_logging_metric.outbox_lag.id
  }
}

resource "google_monitoring_alert_policy" "outbox_lag_probe" {
  display_name          = "8949 market ${var.environment}: outbox lag (probe)"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "the probe finds the oldest unpublished outbox row older than ${var.alerts.outbox_lag_seconds}s"
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
    content = "Measured from the database by the outbox-lag job, apart from the relay: events are committed but not published. Check the outbox-relay service (min 1 instance) and its logs; rows and their last_error are in messaging.outbox."
  }

  depends_on = [google_logging_metric.outbox_lag, time_sleep.log_metrics_known]
}
