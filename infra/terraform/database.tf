# Cloud SQL for PostgreSQL on a private IP only, with daily backups and point-in-time
# recovery (write-ahead logs kept for log_retention_days).
resource "random_password" "database" {
  length  = 32
  special = false # it goes into a URL unescaped
}

# The connection budget: the most connections each part of the platform can hold at once,
# every service at its max_instances with a full pool. PostgreSQL refuses connections past
# max_connections, and a refused connection is a failed request, so the plan refuses a
# configuration whose pools could add up to more (the precondition below).
locals {
  database_connections = {
    functions = sum(concat([0], [for name, size in local.function_sizes : size.max_instances * size.database_max_conns]))
    relay     = var.relay.max_instances * var.relay.database_max_conns
    chat      = var.chat.max_instances * var.chat.database_max_conns
    # The jobs' pools are fixed in their code: cmd/migrate connects 2, infra/cmd/outbox-lag
    # 1 (the infra test checks); one execution of each at a time (terraform waits for the
    # migration, the probe runs every minute with a 60 s timeout).
    migrate    = 2
    outbox_lag = 1
    reserved   = var.database.reserved_connections
  }
  database_connections_total = sum(values(local.database_connections))
}

resource "google_sql_database_instance" "main" {
  name                = "market-${var.environment}"
  database_version    = "POSTGRES_17"
  region              = var.region
  deletion_protection = var.database.deletion_protection

  settings {
    edition           = "ENTERPRISE"
    tier              = var.database.tier
    availability_type = var.database.availability_type
    disk_size         = var.database.disk_size_gb
    disk_autoresize   = true
    user_labels       = local.labels

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = var.database.backup_start_time
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.database.log_retention_days
      backup_retention_settings {
        retained_backups = var.database.retained_backups
        retention_unit   = "COUNT"
      }
    }

    # Every instance keeps a small pool (DATABASE_MAX_CONNS); the precondition below keeps
    # their sum, at every service's max_instances, within this.
    database_flags {
      name  = "max_connections"
      value = tostring(var.database.max_connections)
    }

    maintenance_window {
      day          = var.database.maintenance_day
      hour         = var.database.maintenance_hour
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled = var.database.query_insights_enable
    }
  }

  depends_on = [google_service_networking_connection.services]

  lifecycle {
    precondition {
      condition     = local.database_connections_total <= var.database.max_connections
      error_message = "The services' database pools can open ${local.database_connections_total} connections (${join(", ", [for part, n in local.database_connections : "${part} ${n}"])}), more than database.max_connections = ${var.database.max_connections}: lower max_instances or database_max_conns (function_defaults, function_overrides, relay, chat), or raise max_connections with a larger tier. See infra/README.md, Connection budget."
    }
  }
}

resource "google_sql_database" "market" {
  name     = "market8949"
  instance = google_sql_database_instance.main.name
}

resource "google_sql_user" "app" {
  name     = "market"
  instance = google_sql_database_instance.main.name
  password = random_password.database.result
}

# The migration job: cmd/migrate from the functions image. It applies the migrations and
# creates the first MASTER account when bootstrap_admin_username is set.
resource "google_cloud_run_v2_job" "migrate" {
  name                = "migrate"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1

    template {
      service_account = google_service_account.migrate.email
      timeout         = "900s"
      max_retries     = 1

      vpc_access {
        network_interfaces {
          network    = local.vpc_network
          subnetwork = local.vpc_subnetwork
        }
        egress = "PRIVATE_RANGES_ONLY"
      }

      containers {
        image   = local.images.functions
        command = ["/migrate"]
        args    = ["up"]

        dynamic "env" {
          for_each = merge(local.common_env, var.bootstrap_admin_username == "" ? {} : { BOOTSTRAP_ADMIN_USERNAME = var.bootstrap_admin_username })
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = local.migrate_secret_env
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

  depends_on = [
    google_secret_manager_secret_iam_member.migrate,
    google_secret_manager_secret_version.database_url,
    google_secret_manager_secret_version.bootstrap_admin_password,
  ]
}

# Runs the migration job for every new image (or job change) and waits for it, before any
# service rolls out (they depend on this). A failed migration fails the apply and leaves the
# running revisions as they were.
resource "terraform_data" "migrate" {
  count = var.run_migrations ? 1 : 0

  triggers_replace = [var.image_tag, google_cloud_run_v2_job.migrate.id, google_cloud_run_v2_job.migrate.generation]

  provisioner "local-exec" {
    command = "gcloud run jobs execute ${google_cloud_run_v2_job.migrate.name} --project=${var.project_id} --region=${var.region} --wait"
  }
}
