# The chat server: WebSockets, so session affinity, a request timeout as long as a
# connection may live, high concurrency, CPU always allocated (replicas fan out through
# Redis between requests), and public ingress (clients, and API Gateway for its REST
# routes). It also serves the event functions the registry marks as hosted by it, at
# POST /internal/functions/<name>; being public, it checks those callers itself:
# PUSH_AUTH=oidc, a Google ID token for its own URL (SERVICE_URL, the audience the push
# subscriptions and the bridge use for hosted consumers) from the deliverer's account.
resource "google_cloud_run_v2_service" "chat" {
  name                = local.chat_service
  location            = var.region
  deletion_protection = false
  ingress             = "INGRESS_TRAFFIC_ALL"

  template {
    service_account                  = google_service_account.chat.email
    labels                           = { secrets-revision = var.secrets_revision }
    session_affinity                 = true
    timeout                          = var.chat.timeout
    max_instance_request_concurrency = var.chat.concurrency
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.chat.min_instances
      max_instance_count = var.chat.max_instances
    }

    vpc_access {
      network_interfaces {
        network    = local.vpc_network
        subnetwork = local.vpc_subnetwork
      }
      egress = "PRIVATE_RANGES_ONLY"
    }

    containers {
      image = local.images.chat

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.chat.cpu
          memory = var.chat.memory
        }
        cpu_idle          = false
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(local.common_env, local.cors_env, {
          TRUSTED_PROXY_HOPS = tostring(local.trusted_proxy_hops)
          DATABASE_MAX_CONNS = tostring(var.chat.database_max_conns)
          SERVICE_URL        = local.chat_url
          PUSH_AUTH          = "oidc"
          PUSH_INVOKERS      = local.deliverer_email
        })
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.chat_secret_env
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
        period_seconds    = 1
        failure_threshold = 15
      }
    }
  }

  depends_on = [
    terraform_data.migrate,
    google_secret_manager_secret_iam_member.chat,
    google_secret_manager_secret_version.database_url,
    google_secret_manager_secret_version.redis_url,
  ]
}

# Clients connect to the chat server directly (API Gateway carries no WebSockets); it
# checks the access token itself, and the ID token of whoever calls its internal
# endpoints. Its REST routes behind the gateway keep the client's Authorization
# (disable_auth in gateway.tf).
resource "google_cloud_run_v2_service_iam_member" "chat_public" {
  name     = google_cloud_run_v2_service.chat.name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}
