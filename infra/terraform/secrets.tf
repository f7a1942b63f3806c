# Secret Manager holds every credential; services read them as environment variables
# (version "latest", resolved when an instance starts). Terraform writes the versions it
# can derive (database and Redis URLs, the bootstrap password); the JWT keys are added by
# the operator with infra/cmd/jwk (docs/deploy.md), so no private signing key is ever in
# the Terraform state.
locals {
  secrets = {
    database_url             = "market-database-url"
    redis_url                = "market-redis-url"
    jwt_public_keys          = "market-jwt-public-keys"
    jwt_signing_key          = "market-jwt-signing-key"
    bootstrap_admin_password = "market-bootstrap-admin-password"
  }

  # Environment variable => secret, per kind of container. Only the functions registered
  # registry.Signs() get the private signing key.
  verifier_secret_env = {
    DATABASE_URL    = "database_url"
    REDIS_URL       = "redis_url"
    JWT_PUBLIC_KEYS = "jwt_public_keys"
  }
  signer_secret_env = merge(local.verifier_secret_env, { JWT_SIGNING_KEY = "jwt_signing_key" })
  function_secret_env = {
    for name, f in local.service_functions : name => try(f.signs, false) ? local.signer_secret_env : local.verifier_secret_env
  }
  chat_secret_env    = local.verifier_secret_env
  relay_secret_env   = { DATABASE_URL = "database_url" }
  migrate_secret_env = merge({ DATABASE_URL = "database_url" }, var.bootstrap_admin_username == "" ? {} : { BOOTSTRAP_ADMIN_PASSWORD = "bootstrap_admin_password" })
  monitor_secret_env = { DATABASE_URL = "database_url" }

  # One accessor grant per (function, secret) it reads, and nothing more.
  function_secret_access = merge([
    for name, env in local.function_secret_env : {
      for variable, secret in env : "${name}/${secret}" => { function = name, secret = secret }
    }
  ]...)
}

resource "google_secret_manager_secret" "app" {
  for_each = local.secrets

  secret_id = each.value
  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "database_url" {
  secret      = google_secret_manager_secret.app["database_url"].id
  secret_data = "postgres://${google_sql_user.app.name}:${random_password.database.result}@${google_sql_database_instance.main.private_ip_address}:5432/${google_sql_database.market.name}?sslmode=require"
}

resource "google_secret_manager_secret_version" "redis_url" {
  secret      = google_secret_manager_secret.app["redis_url"].id
  secret_data = "redis://:${google_redis_instance.main.auth_string}@${google_redis_instance.main.host}:${google_redis_instance.main.port}/0"
}

# The first administrator's password must pass the accounts' password rule
# (shared/users: 8 to 20 characters of letters, digits and some symbols), or the
# migration job refuses it (U004) and the apply fails. 20 is the longest it allows.
resource "random_password" "bootstrap_admin" {
  count = var.bootstrap_admin_username == "" ? 0 : 1

  length      = 20
  min_upper   = 2
  min_lower   = 2
  min_numeric = 2
  special     = true
  # Characters the rule allows that also survive shells and JSON unquoted, for the first
  # login by hand.
  override_special = "!#%*-_=+"
}

resource "google_secret_manager_secret_version" "bootstrap_admin_password" {
  count = var.bootstrap_admin_username == "" ? 0 : 1

  secret      = google_secret_manager_secret.app["bootstrap_admin_password"].id
  secret_data = random_password.bootstrap_admin[0].result
}

resource "google_secret_manager_secret_iam_member" "function" {
  for_each = local.function_secret_access

  secret_id = google_secret_manager_secret.app[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.function].member
}

resource "google_secret_manager_secret_iam_member" "chat" {
  for_each = toset(values(local.chat_secret_env))

  secret_id = google_secret_manager_secret.app[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.chat.member
}

resource "google_secret_manager_secret_iam_member" "relay" {
  for_each = toset(values(local.relay_secret_env))

  secret_id = google_secret_manager_secret.app[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.relay.member
}

resource "google_secret_manager_secret_iam_member" "migrate" {
  for_each = toset(values(local.migrate_secret_env))

  secret_id = google_secret_manager_secret.app[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.migrate.member
}

resource "google_secret_manager_secret_iam_member" "monitor" {
  for_each = toset(values(local.monitor_secret_env))

  secret_id = google_secret_manager_secret.app[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.monitor.member
}
