# Everything per function, per topic and per consumer is derived here from functions.json,
# which `make manifest` generates from the function registry. No function or topic is
# named anywhere else in this module (the infra test checks), so a new function or topic
# needs `make manifest` and `terraform apply`, nothing more.
locals {
  manifest  = jsondecode(file("${path.module}/functions.json"))
  functions = { for f in local.manifest.functions : f.name => f }

  # Functions with a Cloud Run service of their own. An event function with a host (the
  # chat server consumes trade events itself) is served by that host at
  # POST /internal/functions/<name> instead.
  service_functions   = { for name, f in local.functions : name => f if try(f.host, "") == "" }
  http_functions      = { for name, f in local.service_functions : name => f if f.kind == "http" }
  scheduled_functions = { for name, f in local.service_functions : name => f if f.kind == "scheduled" }
  # Consumers with their own private service: invoked by the push identity only.
  private_consumers = { for name, f in local.service_functions : name => f if f.kind == "event" }
  # Every consumer, hosted or not: one push subscription (or bridge target) each.
  event_functions = { for name, f in local.functions : name => f if f.kind == "event" }

  # The topics Cloud Storage publishes to (the uploads bucket's notification, storage.tf).
  # Cloud Storage notifies only Pub/Sub, so these are Pub/Sub topics on either backbone,
  # and their consumers are pushed by Pub/Sub subscriptions (pubsub.tf), never by the
  # Kafka bridge.
  storage_topics    = toset(try(local.manifest.storageTopics, []))
  storage_consumers = { for name, f in local.event_functions : name => f if contains(local.storage_topics, f.topic) }

  # What each function does with the buckets (registry.UsesBuckets): "uploads:sign" signs
  # upload URLs, "uploads" reads and deletes uploads, "photos" writes and deletes photos.
  # iam.tf grants each function's account exactly these (storage.tf says which role each
  # use is).
  function_buckets = { for name, f in local.service_functions : name => toset(try(f.buckets, [])) }

  topics             = toset(local.manifest.topics)
  dead_letter_suffix = local.manifest.deadLetterSuffix
  topic_prefix       = "${var.environment}-"
  topic_names        = { for t in local.topics : t => "${local.topic_prefix}${t}" }
  dead_letter_names  = { for t in local.topics : t => "${local.topic_prefix}${t}${local.dead_letter_suffix}" }

  # Cloud Run's deterministic URLs (https://<service>-<project number>.<region>.run.app):
  # known before the services exist, so a service can name its own URL (SERVICE_URL, the
  # audience of the ID tokens it accepts) and the push subscriptions, bridge targets,
  # scheduler jobs and gateway config do not wait for a service to be created to be
  # planned.
  run_url_suffix = "${data.google_project.this.number}.${var.region}.run.app"
  function_urls  = { for name, f in local.service_functions : name => "https://${name}-${local.run_url_suffix}" }
  chat_service   = "chat-server"
  chat_url       = "https://${local.chat_service}-${local.run_url_suffix}"
  relay_service  = "outbox-relay"

  # The services that host event functions (registry.HostedBy), by the name the manifest
  # uses. A host missing here fails the plan rather than dropping a consumer.
  host_urls = {
    (local.chat_service) = local.chat_url
  }

  # Where each consumer receives its CloudEvents, and the OIDC audience of the token it
  # is called with. Whoever serves it checks that the audience is its own SERVICE_URL:
  # the function's service URL, or the host's URL for a hosted consumer.
  consumer_endpoints = {
    for name, f in local.event_functions : name =>
    try(f.host, "") == "" ? local.function_urls[name] : "${local.host_urls[f.host]}/internal/functions/${name}"
  }
  consumer_audiences = {
    for name, f in local.event_functions : name =>
    try(f.host, "") == "" ? local.function_urls[name] : local.host_urls[f.host]
  }
  hosted_consumers = { for name, f in local.event_functions : name => f if try(f.host, "") != "" }

  # Sizes: the defaults, then the image processors' size for the functions that read
  # uploads (they decode and resize photos: memory and CPU per request, few at once, and
  # time for a large original), then each function's overrides on top.
  function_sizes = {
    for name, f in local.service_functions : name => merge(
      var.function_defaults,
      { for k, v in local.image_function_size : k => v if contains(local.function_buckets[name], "uploads") },
      { for k, v in try(var.function_overrides[name], {}) : k => v if v != null },
    )
  }
  image_function_size = { cpu = "1", memory = "1Gi", concurrency = 2, timeout = "120s" }

  images = {
    functions = "${local.registry_host}/functions:${var.image_tag}"
    relay     = "${local.registry_host}/outbox-relay:${var.image_tag}"
    chat      = "${local.registry_host}/chat-server:${var.image_tag}"
  }
  registry_host = "${var.region}-docker.pkg.dev/${var.project_id}/market"

  gateway_enabled    = var.api_gateway
  gateway_region     = var.api_gateway_region
  trusted_proxy_hops = coalesce(var.trusted_proxy_hops, local.gateway_enabled ? 2 : 1)

  labels = {
    app         = "market-8949"
    environment = var.environment
    managed-by  = "terraform"
  }

  # Configuration every application container gets (shared/config). Secrets are added
  # per service in secrets.tf.
  common_env = {
    BACKBONE             = var.backbone
    TOPIC_PREFIX         = local.topic_prefix
    PUBSUB_PROJECT_ID    = var.project_id
    GOOGLE_CLOUD_PROJECT = var.project_id
    LOG_FORMAT           = "json"
    LOG_LEVEL            = var.log_level
    SHUTDOWN_TIMEOUT     = "10s"
    # Traces to Cloud Trace and metrics to Cloud Monitoring (shared/telemetry; the
    # accounts' roles are in iam.tf), a trace_sample_ratio of the traces a request
    # starts, and whatever its caller sampled.
    OTEL_TRACES_EXPORTER    = "gcp"
    OTEL_METRICS_EXPORTER   = "gcp"
    OTEL_TRACES_SAMPLER     = "parentbased_traceidratio"
    OTEL_TRACES_SAMPLER_ARG = tostring(var.trace_sample_ratio)
  }

  # The browser origins allowed to call the REST functions and the chat server, and to
  # open the chat WebSocket (shared/cors); only those serve browsers. Unset, none is.
  cors_env = length(var.cors_allowed_origins) == 0 ? {} : { CORS_ALLOWED_ORIGINS = join(",", var.cors_allowed_origins) }
}
