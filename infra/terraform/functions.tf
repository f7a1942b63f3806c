# One Cloud Run service per function of the registry (hosted ones excepted), all from the
# one functions image; FUNCTION_TARGET picks the function, which Functions Framework
# serves at "/" with the request's full /api/v1 path.
resource "google_cloud_run_v2_service" "function" {
  for_each = local.service_functions

  name                = each.key
  location            = var.region
  deletion_protection = false
  # REST functions answer clients on their own URL (and behind API Gateway) and check the
  # access token themselves. Consumers and scheduled jobs take internal traffic only
  # (Pub/Sub push, Cloud Scheduler, the bridge over the VPC), and IAM on top.
  ingress = each.value.kind == "http" ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"
  labels  = { function = each.key, kind = each.value.kind }

  template {
    service_account                  = google_service_account.function[each.key].email
    max_instance_request_concurrency = local.function_sizes[each.key].concurrency
    timeout                          = local.function_sizes[each.key].timeout
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    labels                           = { function = each.key, kind = each.value.kind, secrets-revision = var.secrets_revision }

    scaling {
      min_instance_count = local.function_sizes[each.key].min_instances
      max_instance_count = local.function_sizes[each.key].max_instances
    }

    vpc_access {
      network_interfaces {
        network    = local.vpc_network
        subnetwork = local.vpc_subnetwork
      }
      egress = "PRIVATE_RANGES_ONLY"
    }

    containers {
      image = local.images.functions

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = local.function_sizes[each.key].cpu
          memory = local.function_sizes[each.key].memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      env {
        name  = "FUNCTION_TARGET"
        value = each.key
      }

      dynamic "env" {
        for_each = merge(local.common_env, {
          DATABASE_MAX_CONNS = tostring(local.function_sizes[each.key].database_max_conns)
          TRUSTED_PROXY_HOPS = tostring(local.trusted_proxy_hops)
        })
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.function_secret_env[each.key]
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

      startup_probe {
        tcp_socket {
          port = 8080
        }
        period_seconds    = 1
        timeout_seconds   = 1
        failure_threshold = 10
      }
    }
  }

  depends_on = [
    terraform_data.migrate,
    google_secret_manager_secret_iam_member.function,
    google_secret_manager_secret_version.database_url,
    google_secret_manager_secret_version.redis_url,
  ]
}

# REST functions are public endpoints that verify the access token themselves (a function
# registered Public() answers without one).
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = local.http_functions

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Consumers: only whoever delivers events may invoke them.
resource "google_cloud_run_v2_service_iam_member" "deliverer" {
  for_each = local.private_consumers

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = local.deliverer
}

# Scheduled functions: only Cloud Scheduler.
resource "google_cloud_run_v2_service_iam_member" "scheduler" {
  for_each = local.scheduled_functions

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}
