variable "project_id" {
  description = "GCP project that holds this environment (one project per environment)."
  type        = string
}

variable "region" {
  description = "Region of every regional resource (Cloud Run, Cloud SQL, Memorystore, Scheduler, Kafka)."
  type        = string
  default     = "asia-northeast3"
}

variable "environment" {
  description = "Environment name: labels and the topic prefix (TOPIC_PREFIX = \"<environment>-\")."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lowercase letters or digits, starting with a letter."
  }
}

variable "image_tag" {
  description = "Tag of the three images (functions, outbox-relay, chat-server) in Artifact Registry; changing it rolls everything out, after the migration job."
  type        = string
}

variable "backbone" {
  description = "Event backbone: pubsub (topics and push subscriptions) or kafka (Managed Service for Apache Kafka and the relay's push bridge)."
  type        = string
  default     = "pubsub"

  validation {
    condition     = contains(["pubsub", "kafka"], var.backbone)
    error_message = "backbone must be pubsub or kafka."
  }
}

variable "api_gateway" {
  description = "Put API Gateway in front of every REST function (one host for /api/v1/...). The functions' own URLs answer either way."
  type        = bool
  default     = true
}

variable "api_gateway_region" {
  description = "Region of the API Gateway gateway. API Gateway runs in a few regions only, not in asia-northeast3 (region's default); asia-northeast1 (Tokyo) is the nearest to Seoul. The gateway calls the services' run.app URLs, so it may be in another region than they are."
  type        = string
  default     = "asia-northeast1"
  nullable    = false

  # The regions API Gateway deploys gateways to, from "Choosing a GCP region" in
  # https://cloud.google.com/api-gateway/docs/deployment-model (the infra test checks the
  # list against its copy of that page). A gateway in any other region fails at apply,
  # after everything else has been built.
  validation {
    condition = contains([
      "asia-northeast1", "australia-southeast1", "europe-west1", "europe-west2",
      "us-central1", "us-east1", "us-east4", "us-west2", "us-west3", "us-west4",
    ], var.api_gateway_region)
    error_message = "api_gateway_region must be a region API Gateway runs in: asia-northeast1, australia-southeast1, europe-west1, europe-west2, us-central1, us-east1, us-east4, us-west2, us-west3 or us-west4."
  }
}

variable "run_migrations" {
  description = "Run the migration job (gcloud run jobs execute --wait) before the services roll out. Needs gcloud where terraform runs."
  type        = bool
  default     = true
}

variable "bootstrap_admin_username" {
  description = "Username of the first MASTER account, created by the migration job if missing; its password is the bootstrap-admin-password secret. Empty: no bootstrap."
  type        = string
  default     = ""

  # The accounts' username rule (shared/users): a name it refuses makes the migration job,
  # and so the apply, fail after the database has been built.
  validation {
    condition     = var.bootstrap_admin_username == "" || can(regex("^[A-Za-z0-9]{8,12}$", var.bootstrap_admin_username))
    error_message = "bootstrap_admin_username must be empty or 8 to 12 letters or digits (the accounts' username rule)."
  }
}

variable "network_cidr" {
  description = "Primary range of the Cloud Run (Direct VPC egress) subnet; it needs about two addresses per instance."
  type        = string
  default     = "10.20.0.0/20"
}

variable "kafka_subnet_cidr" {
  description = "Subnet the Managed Kafka brokers are reachable on (kafka backbone only)."
  type        = string
  default     = "10.20.16.0/24"
}

variable "function_defaults" {
  description = "Size of every function's Cloud Run service unless function_overrides says otherwise. Every instance may hold database_max_conns connections: the sum over every service's max_instances must fit database.max_connections (the plan checks; infra/README.md, Connection budget)."
  type = object({
    cpu                = string
    memory             = string
    concurrency        = number
    min_instances      = number
    max_instances      = number
    timeout            = string
    database_max_conns = number
  })
  # Most functions are light (a query or two per request, a few milliseconds each): a small
  # pool and few instances, 6 connections at most per function.
  default = {
    cpu                = "1"
    memory             = "512Mi"
    concurrency        = 80
    min_instances      = 0
    max_instances      = 3
    timeout            = "60s"
    database_max_conns = 2
  }
}

variable "function_overrides" {
  description = "Per-function sizes, by function name (every key must be a registered function; the infra test checks)."
  type = map(object({
    cpu                = optional(string)
    memory             = optional(string)
    concurrency        = optional(number)
    min_instances      = optional(number)
    max_instances      = optional(number)
    timeout            = optional(string)
    database_max_conns = optional(number)
  }))
  default = {
    # The time-deal race: every applicant arrives in the deal's first second, so no cold
    # start on this path, and room for a burst: 20 instances of 250 requests. Applicants
    # are admitted in Redis and written in batches, at most four at once per instance
    # (shared/reservations), so 8 connections per instance leave room for the buyer's
    # transaction and the reads: 160 in all.
    "reservations-apply" = { min_instances = 1, max_instances = 20, concurrency = 250, cpu = "2", memory = "1Gi", database_max_conns = 8 }
    # bcrypt is the cost of these: few requests per instance, more instances; the hash
    # holds no connection, so the default pool of 2 is plenty (40 connections each).
    "auth-login"  = { concurrency = 8, max_instances = 20 }
    "auth-signup" = { concurrency = 8, max_instances = 20 }
    # Scheduled every minute; one at a time is enough (they are safe in parallel anyway).
    "products-tick"      = { max_instances = 2, timeout = "300s" }
    "reservations-sweep" = { max_instances = 2, timeout = "300s" }
  }

  validation {
    condition     = try(var.function_overrides["reservations-apply"].min_instances, 0) >= 1
    error_message = "reservations-apply must keep min_instances >= 1: a cold start at a deal's opening instant loses the race for the first applicants."
  }
}

variable "relay" {
  description = "Size of the outbox relay (min 1: it must always be running); database_max_conns is its pool per instance (DATABASE_MAX_CONNS)."
  type = object({
    cpu                = string
    memory             = string
    min_instances      = number
    max_instances      = number
    batch_size         = number
    database_max_conns = optional(number, 4)
  })
  default = {
    cpu           = "1"
    memory        = "512Mi"
    min_instances = 1
    max_instances = 2
    batch_size    = 500
  }

  validation {
    condition     = var.relay.min_instances >= 1
    error_message = "The relay needs at least one instance: nothing else publishes the outbox."
  }
}

variable "chat" {
  description = "Size of the chat server (WebSockets: high concurrency, long request timeout); database_max_conns is its pool per instance (DATABASE_MAX_CONNS, which would otherwise be 20)."
  type = object({
    cpu                = string
    memory             = string
    min_instances      = number
    max_instances      = number
    concurrency        = number
    timeout            = string
    database_max_conns = optional(number, 10)
  })
  default = {
    cpu           = "1"
    memory        = "1Gi"
    min_instances = 1
    max_instances = 10
    concurrency   = 1000
    timeout       = "3600s"
  }
}

variable "database" {
  description = "Cloud SQL for PostgreSQL. max_connections must hold every pool at its largest plus reserved_connections, kept for PostgreSQL's superuser slots, Cloud SQL's own sessions and an operator's psql (the plan checks; infra/README.md, Connection budget)."
  type = object({
    tier                  = string
    disk_size_gb          = number
    availability_type     = string
    max_connections       = number
    reserved_connections  = optional(number, 20)
    backup_start_time     = string
    retained_backups      = number
    log_retention_days    = number
    deletion_protection   = bool
    maintenance_day       = number
    maintenance_hour      = number
    query_insights_enable = bool
  })
  default = {
    tier                  = "db-custom-2-7680"
    disk_size_gb          = 20
    availability_type     = "REGIONAL"
    max_connections       = 800
    backup_start_time     = "18:00"
    retained_backups      = 14
    log_retention_days    = 7
    deletion_protection   = true
    maintenance_day       = 7
    maintenance_hour      = 19
    query_insights_enable = true
  }
}

variable "redis" {
  description = "Memorystore for Redis."
  type = object({
    tier           = string
    memory_size_gb = number
  })
  default = {
    tier           = "STANDARD_HA"
    memory_size_gb = 1
  }
}

variable "kafka" {
  description = "Managed Service for Apache Kafka (backbone = kafka only)."
  type = object({
    vcpu_count         = number
    memory_gib         = number
    replication_factor = number
  })
  default = {
    vcpu_count         = 3
    memory_gib         = 3
    replication_factor = 3
  }
}

variable "delivery" {
  description = "Delivery of events to consumers, on either backbone: attempts before the dead-letter topic and the retry back-off between them. The push subscriptions (pubsub) and the relay's push bridge (kafka: BRIDGE_MAX_ATTEMPTS, BRIDGE_MIN_BACKOFF, BRIDGE_MAX_BACKOFF) read the same values; ack_deadline_seconds is the push subscriptions' alone."
  type = object({
    max_delivery_attempts = number
    minimum_backoff       = string
    maximum_backoff       = string
    ack_deadline_seconds  = number
  })
  default = {
    max_delivery_attempts = 10
    minimum_backoff       = "10s"
    maximum_backoff       = "600s"
    ack_deadline_seconds  = 60
  }

  # What both consumers of these values accept: Pub/Sub's ranges, and durations that Go's
  # time.ParseDuration reads too (whole seconds), with the bridge's 0 < min <= max.
  validation {
    condition     = var.delivery.max_delivery_attempts >= 5 && var.delivery.max_delivery_attempts <= 100
    error_message = "delivery.max_delivery_attempts must be 5 to 100 (Pub/Sub's range)."
  }
  validation {
    condition = alltrue([
      can(regex("^[0-9]+s$", var.delivery.minimum_backoff)),
      can(regex("^[0-9]+s$", var.delivery.maximum_backoff)),
      try(tonumber(trimsuffix(var.delivery.minimum_backoff, "s")) > 0, false),
      try(tonumber(trimsuffix(var.delivery.minimum_backoff, "s")) <= tonumber(trimsuffix(var.delivery.maximum_backoff, "s")), false),
      try(tonumber(trimsuffix(var.delivery.maximum_backoff, "s")) <= 600, false),
    ])
    error_message = "delivery.minimum_backoff and maximum_backoff must be whole seconds (\"10s\"), with 0s < minimum_backoff <= maximum_backoff <= 600s."
  }
  validation {
    condition     = var.delivery.ack_deadline_seconds >= 10 && var.delivery.ack_deadline_seconds <= 600
    error_message = "delivery.ack_deadline_seconds must be 10 to 600 (Pub/Sub's range)."
  }
}

variable "trusted_proxy_hops" {
  description = "TRUSTED_PROXY_HOPS of the REST functions; null: 2 behind API Gateway (gateway + Cloud Run front end), else 1."
  type        = number
  default     = null
}

variable "cors_allowed_origins" {
  description = "Browser origins (exact, \"https://app.example.com\") whose pages may call the API and open the chat WebSocket: CORS_ALLOWED_ORIGINS of the REST functions and the chat server. Empty (default): no cross-origin browser access."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https?://[a-z0-9.-]+(:[0-9]+)?$", o)) && !can(regex("^(http://.*:80|https://.*:443)$", o))])
    error_message = "cors_allowed_origins must be origins as browsers send them: scheme://host[:port], lowercase, no default port, path, trailing slash or wildcard."
  }
}

variable "photos_public" {
  description = "Anyone may read the photos bucket (allUsers, roles/storage.objectViewer): listings are public and their photo URLs cacheable. False: no public access (prevented), and photos_url must name a CDN that reads the bucket with its own access."
  type        = bool
  default     = true
  nullable    = false
}

variable "photos_url" {
  description = "Base URL of the photos (PHOTOS_URL), e.g. a Cloud CDN host in front of the photos bucket: https://photos.example.com, no trailing slash. Empty (default): the bucket's own https://storage.googleapis.com/<photos bucket>."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.photos_url == "" || can(regex("^https://[^[:space:]/]+(/[^[:space:]]*[^/[:space:]])?$", var.photos_url))
    error_message = "photos_url must be empty or an https:// URL without a trailing slash."
  }
}

variable "storage_force_destroy" {
  description = "Let terraform destroy the uploads and photos buckets with their objects in them (for a throwaway environment). False (default): a bucket that holds objects is never destroyed."
  type        = bool
  default     = false
  nullable    = false
}

variable "log_level" {
  description = "LOG_LEVEL of every service."
  type        = string
  default     = "info"
}

variable "alerts" {
  description = "Alert thresholds, and where alerts go: the e-mail address and the webhook URL (each empty: no such channel; both empty: alerts without a notification channel). Sensitive for webhook_url, whose URL is its credential; the thresholds are in docs/operations.md."
  type = object({
    email                = string
    error_ratio          = number
    p99_latency_seconds  = number
    outbox_lag_seconds   = number
    consumer_lag_seconds = optional(number, 120)
    chat_error_rate      = optional(number, 0.5)
    webhook_url          = optional(string, "")
  })
  sensitive = true
  default = {
    email               = ""
    error_ratio         = 0.02
    p99_latency_seconds = 1.5
    outbox_lag_seconds  = 60
  }

  validation {
    condition     = var.alerts.error_ratio > 0 && var.alerts.error_ratio <= 1
    error_message = "alerts.error_ratio is a share of requests: more than 0, at most 1."
  }
  validation {
    condition = alltrue([
      var.alerts.p99_latency_seconds > 0, var.alerts.outbox_lag_seconds > 0,
      var.alerts.consumer_lag_seconds > 0, var.alerts.chat_error_rate > 0,
    ])
    error_message = "alerts.p99_latency_seconds, outbox_lag_seconds, consumer_lag_seconds and chat_error_rate must be more than 0."
  }
  validation {
    condition     = var.alerts.email == "" || can(regex("^[^@[:space:]]+@[^@[:space:]]+$", var.alerts.email))
    error_message = "alerts.email must be empty or an e-mail address."
  }
  validation {
    condition     = var.alerts.webhook_url == "" || can(regex("^https://[^[:space:]]+$", var.alerts.webhook_url))
    error_message = "alerts.webhook_url must be empty or an https:// URL."
  }
}

variable "trace_sample_ratio" {
  description = "Share of the traces a request starts that are sampled and sent to Cloud Trace (OTEL_TRACES_SAMPLER_ARG); a request whose caller sampled it is always traced."
  type        = number
  default     = 0.1
  nullable    = false

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio must be 0 to 1."
  }
}

variable "secrets_revision" {
  description = "Bump to roll every service to a new revision, so that each reads the latest secret versions now rather than as instances come and go (key rotation, docs/deploy.md)."
  type        = string
  default     = "1"
}

variable "github_repository" {
  description = "The GitHub repository (\"owner/name\", as GitHub spells it) whose Actions runs deploy this environment through Workload Identity Federation, from its main branch and v* tags (cicd.tf). Empty: no CI/CD resources at all (no pool, no deployer account); deploy by hand as docs/deploy.md says."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be empty or \"owner/name\": an owner of letters, digits and hyphens, a name of letters, digits, '.', '_' and '-'."
  }
}

variable "tf_state_bucket" {
  description = "The GCS bucket of the Terraform state (made by hand before the first apply: docs/deploy.md). Set with github_repository, the deployer may read and write its objects (storage.objectUser on that bucket), so CI can plan and apply. Empty: no grant."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.tf_state_bucket == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.tf_state_bucket))
    error_message = "tf_state_bucket must be empty or a bucket name (lowercase letters, digits, '.', '_' and '-'), without gs://."
  }
}

variable "deployer_applies_infra" {
  description = "Whether the CI/CD deployer may terraform apply the whole module (the admin role of every resource type it declares, and so, through the project's IAM, as much trust as an owner). False: it only pushes images, updates the Cloud Run services and jobs to new digests and runs the migration job."
  type        = bool
  default     = false
  nullable    = false
}
