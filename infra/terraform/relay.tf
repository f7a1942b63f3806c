# The outbox relay: always one instance with CPU always allocated (it works between
# requests), no public ingress and no invoker at all; it answers only Cloud Run's probes.
# On the Kafka backbone the same service is the push bridge: it consumes one group per
# consumer function and POSTs each record to BRIDGE_TARGETS with a Google ID token of its
# own account for the target's audience, retrying as var.delivery says (as the push
# subscriptions do on Pub/Sub) before it dead-letters the record.
resource "google_cloud_run_v2_service" "relay" {
  name                = local.relay_service
  location            = var.region
  deletion_protection = false
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  template {
    service_account       = google_service_account.relay.email
    labels                = { secrets-revision = var.secrets_revision }
    execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.relay.min_instances
      max_instance_count = var.relay.max_instances
    }

    vpc_access {
      network_interfaces {
        network    = local.vpc_network
        subnetwork = local.vpc_subnetwork
      }
      # The bridge calls the private consumers' run.app URLs; through the VPC (Private
      # Google Access) those calls count as internal traffic, which their ingress requires.
      egress = var.backbone == "kafka" ? "ALL_TRAFFIC" : "PRIVATE_RANGES_ONLY"
    }

    containers {
      image = local.images.relay

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.relay.cpu
          memory = var.relay.memory
        }
        cpu_idle          = false
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(local.common_env, {
          RELAY_BATCH_SIZE   = tostring(var.relay.batch_size)
          DATABASE_MAX_CONNS = tostring(var.relay.database_max_conns)
          }, var.backbone == "kafka" ? {
          KAFKA_BROKERS = local.kafka_bootstrap
          # Managed Kafka accepts only SASL over TLS: OAUTHBEARER with the relay's service
          # account (roles/managedkafka.client, iam.tf), so there is no key to keep.
          KAFKA_TLS           = "true"
          KAFKA_SASL          = "gcp"
          BRIDGE_TARGETS      = jsonencode(local.bridge_targets)
          BRIDGE_AUTH         = "oidc"
          BRIDGE_MAX_ATTEMPTS = tostring(var.delivery.max_delivery_attempts)
          BRIDGE_MIN_BACKOFF  = var.delivery.minimum_backoff
          BRIDGE_MAX_BACKOFF  = var.delivery.maximum_backoff
        } : {})
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.relay_secret_env
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

      # A startup probe only: /healthz pings the database, and a liveness probe on it would
      # restart healthy instances during a database failover.
      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 2
        failure_threshold = 15
      }
    }
  }

  depends_on = [
    terraform_data.migrate,
    google_secret_manager_secret_iam_member.relay,
    google_pubsub_topic_iam_member.relay,
    google_project_iam_member.relay_topic_ensurer,
    google_project_iam_member.relay_kafka_client,
    google_managed_kafka_topic.event,
    google_managed_kafka_topic.dead_letter,
  ]
}
