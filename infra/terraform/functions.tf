# One Cloud Run service per function of the registry (hosted ones excepted), all from the
# one functions image; FUNCTION_TARGET picks the function, which Functions Framework
# serves at "/" with the request's full /api/v1 path.
locals {
  # The trust boundary (shared/pushauth): who may call each kind of function, checked in
  # code on top of IAM's run.invoker. Every caller presents a Google ID token whose
  # audience is the service's own URL (SERVICE_URL). Event functions accept only their
  # deliverer (local.consumer_deliverers: the push subscriptions' account, or the relay's
  # push bridge on Kafka but for storage topics' consumers), scheduled functions only
  # Cloud Scheduler. Behind API Gateway a REST function accepts
  # only the gateway's token and reads the client's access token from
  # X-Forwarded-Authorization, where the gateway moves it; without the gateway it takes
  # clients directly and checks their access tokens only.
  caller_env = {
    event     = { PUSH_AUTH = "oidc" } # and PUSH_INVOKERS, the consumer's deliverer
    scheduled = { PUSH_AUTH = "oidc", PUSH_INVOKERS = google_service_account.scheduler.email }
    http      = local.gateway_enabled ? { GATEWAY_INVOKER = google_service_account.gateway.email } : {}
  }

  function_env = {
    for name, f in local.service_functions : name => merge(
      local.common_env,
      {
        DATABASE_MAX_CONNS = tostring(local.function_sizes[name].database_max_conns)
        TRUSTED_PROXY_HOPS = tostring(local.trusted_proxy_hops)
        SERVICE_URL        = local.function_urls[name]
      },
      local.caller_env[f.kind],
      f.kind == "event" ? { PUSH_INVOKERS = local.consumer_deliverers[name].email } : {},
      f.kind == "http" ? local.cors_env : {},
      local.storage_env,
      contains(local.function_buckets[name], "uploads:sign") ? { STORAGE_SIGNER = google_service_account.function[name].email } : {},
    )
  }

  # The buckets (storage.tf), for every function: PHOTOS_URL is the base of the photos'
  # public URLs in every answer, a CDN's when var.photos_url names one. A function that
  # signs upload URLs signs as its own account (STORAGE_SIGNER, iam.tf).
  storage_env = {
    STORAGE_BACKEND = "gcs"
    UPLOADS_BUCKET  = local.bucket_names.uploads
    PHOTOS_BUCKET   = local.bucket_names.photos
    PHOTOS_URL      = local.photos_url
  }
}

resource "google_cloud_run_v2_service" "function" {
  for_each = local.service_functions

  name                = each.key
  location            = var.region
  deletion_protection = false
  # REST functions take traffic from the internet: API Gateway's, or the clients' own
  # without the gateway (IAM below decides which). Consumers and scheduled jobs take
  # internal traffic only (Pub/Sub push, Cloud Scheduler, the bridge over the VPC), and
  # IAM and the caller check on top.
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
        for_each = local.function_env[each.key]
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
    google_storage_bucket_iam_member.function,
    google_service_account_iam_member.url_signer,
    google_secret_manager_secret_version.database_url,
    google_secret_manager_secret_version.redis_url,
  ]
}

# Without API Gateway, REST functions are public endpoints that verify the access token
# themselves (a function registered Public() answers without one).
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for name, f in local.http_functions : name => f if !local.gateway_enabled }

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Behind API Gateway only the gateway's account may invoke a REST function: no client
# reaches one around the gateway, so the X-Forwarded-For it appends can be trusted
# (TRUSTED_PROXY_HOPS), and the function checks the gateway's token itself too
# (GATEWAY_INVOKER).
resource "google_cloud_run_v2_service_iam_member" "gateway" {
  for_each = { for name, f in local.http_functions : name => f if local.gateway_enabled }

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = google_service_account.gateway.member
}

# Consumers: only whoever delivers their events may invoke them.
resource "google_cloud_run_v2_service_iam_member" "deliverer" {
  for_each = local.private_consumers

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = local.consumer_deliverers[each.key].member
}

# Scheduled functions: only Cloud Scheduler.
resource "google_cloud_run_v2_service_iam_member" "scheduler" {
  for_each = local.scheduled_functions

  name     = google_cloud_run_v2_service.function[each.key].name
  location = var.region
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}
