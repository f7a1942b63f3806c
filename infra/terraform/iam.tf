# One service account per function and per service, each granted only what it uses: its
# secrets (secrets.tf), the invoker role on exactly the services that call it, and for the
# relay the topics it publishes to. No account gets a project-wide editor role.
#
# Every resource here waits for the APIs (google_project_service.enabled), directly or
# through what it refers to: on a new project the IAM API is off until then.

resource "google_service_account" "function" {
  for_each = local.service_functions

  # Account ids are 6-30 characters: the name's start plus a hash of the whole name keeps
  # them readable and distinct.
  account_id   = "${trimsuffix(substr(each.key, 0, 21), "-")}-${substr(sha1(each.key), 0, 6)}"
  display_name = "function ${each.key}"
  description  = "Runs the ${each.value.kind} function ${each.key} (${local.labels.app} ${var.environment})."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "relay" {
  account_id   = "outbox-relay"
  display_name = "outbox relay and push bridge"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "chat" {
  account_id   = "chat-server"
  display_name = "chat server"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "migrate" {
  account_id   = "migrate"
  display_name = "migration job"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "monitor" {
  account_id   = "outbox-lag"
  display_name = "outbox lag probe"

  depends_on = [google_project_service.enabled]
}

# The identity Pub/Sub push subscriptions sign their OIDC tokens as.
resource "google_service_account" "push" {
  account_id   = "pubsub-push"
  display_name = "Pub/Sub push to consumer functions"

  depends_on = [google_project_service.enabled]
}

# The identity Cloud Scheduler calls the scheduled functions (and the lag probe) as.
resource "google_service_account" "scheduler" {
  account_id   = "scheduler"
  display_name = "Cloud Scheduler jobs"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "gateway" {
  account_id   = "api-gateway"
  display_name = "API Gateway"

  depends_on = [google_project_service.enabled]
}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  # Who delivers events to consumers: the push subscriptions' identity on Pub/Sub, the
  # relay's push bridge on Kafka. The chat server's hosted consumers are the backbone's.
  deliverer_email = var.backbone == "pubsub" ? google_service_account.push.email : google_service_account.relay.email
  # Who delivers each consumer's events, and so may invoke it (PUSH_INVOKERS and
  # run.invoker): the push account for a consumer of a Pub/Sub topic (every consumer on
  # the Pub/Sub backbone; on Kafka, a storage topic's: pubsub.tf), the relay's bridge for
  # the others.
  push_deliverer  = { email = google_service_account.push.email, member = google_service_account.push.member }
  relay_deliverer = { email = google_service_account.relay.email, member = google_service_account.relay.member }
  consumer_deliverers = {
    for name, f in local.event_functions : name =>
    contains(keys(local.pubsub_consumers), name) ? local.push_deliverer : local.relay_deliverer
  }
}

# Pub/Sub mints the push OIDC tokens as the push account: on the Pub/Sub backbone, and on
# Kafka when a storage topic has consumers.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  count = length(keys(local.pubsub_consumers)) > 0 ? 1 : 0

  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# The relay creates missing topics at start (bus.EnsureTopics), which with every topic made
# here only ever answers "already exists"; this role is that one permission, not
# pubsub.editor.
resource "google_project_iam_custom_role" "topic_ensurer" {
  count = var.backbone == "pubsub" ? 1 : 0

  role_id     = "marketTopicEnsurer${title(var.environment)}"
  title       = "8949 market topic ensurer (${var.environment})"
  description = "Create (in practice: confirm) the platform's Pub/Sub topics."
  permissions = ["pubsub.topics.create", "pubsub.topics.get"]

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "relay_topic_ensurer" {
  count = var.backbone == "pubsub" ? 1 : 0

  project = var.project_id
  role    = google_project_iam_custom_role.topic_ensurer[0].id
  member  = google_service_account.relay.member
}

resource "google_project_iam_member" "relay_kafka_client" {
  count = var.backbone == "kafka" ? 1 : 0

  project = var.project_id
  role    = "roles/managedkafka.client"
  member  = google_service_account.relay.member
}

locals {
  # Every identity that runs the platform's code with local.common_env, which exports
  # traces to Cloud Trace and metrics to Cloud Monitoring: each function's, the relay's,
  # the chat server's and the two jobs'.
  telemetry_writers = merge(
    { for name in keys(local.service_functions) : name => google_service_account.function[name].member },
    {
      (local.relay_service) = google_service_account.relay.member
      (local.chat_service)  = google_service_account.chat.member
      migrate               = google_service_account.migrate.member
      "outbox-lag"          = google_service_account.monitor.member
    },
  )
  telemetry_roles = ["roles/cloudtrace.agent", "roles/monitoring.metricWriter"]
  telemetry_grants = merge([
    for who, member in local.telemetry_writers : {
      for role in local.telemetry_roles : "${who}/${role}" => { member = member, role = role }
    }
  ]...)
}

# Writing spans and time series: the two roles OTEL_TRACES_EXPORTER and
# OTEL_METRICS_EXPORTER = gcp need, and nothing else of either API.
resource "google_project_iam_member" "telemetry" {
  for_each = local.telemetry_grants

  project = var.project_id
  role    = each.value.role
  member  = each.value.member
}

# The buckets (storage.tf), by what each function does with them: the role each use needs
# on its bucket, and nothing at the project level.
#   uploads:sign  signs upload URLs: create only (objectCreator), so a signed URL cannot
#                 overwrite an object; and signBlob as its own account (below).
#   uploads       reads and deletes what clients uploaded (objectUser).
#   photos        writes and deletes the processed photos (objectUser).
locals {
  bucket_use_roles = {
    "uploads:sign" = { bucket = "uploads", role = "roles/storage.objectCreator" }
    "uploads"      = { bucket = "uploads", role = "roles/storage.objectUser" }
    "photos"       = { bucket = "photos", role = "roles/storage.objectUser" }
  }
  bucket_grants = merge([
    for name, uses in local.function_buckets : {
      for use in uses : "${name}/${use}" => merge(local.bucket_use_roles[use], { function = name })
    }
  ]...)
  # The functions that sign upload URLs: each signs as its own account (STORAGE_SIGNER).
  url_signers = { for name, uses in local.function_buckets : name => uses if contains(uses, "uploads:sign") }
}

resource "google_storage_bucket_iam_member" "function" {
  for_each = local.bucket_grants

  bucket = each.value.bucket == "uploads" ? google_storage_bucket.uploads.name : google_storage_bucket.photos.name
  role   = each.value.role
  member = google_service_account.function[each.value.function].member
}

# A V4 signed URL is signed through the IAM Credentials API's signBlob, as the function's
# own account: it may mint signatures for itself and for no other account, and there is
# no key file.
resource "google_service_account_iam_member" "url_signer" {
  for_each = local.url_signers

  service_account_id = google_service_account.function[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function[each.key].member
}
