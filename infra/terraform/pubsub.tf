# Pub/Sub: on the Pub/Sub backbone, a topic per event type of the catalogue and its
# dead-letter topic ("<topic>.dlt", shared by the relay's and the consumers' dead letters),
# a push subscription per consumer function, and a pull subscription on every dead-letter
# topic so parked events are kept (a topic without subscriptions drops what it is sent).
# On the Kafka backbone, the same for the storage topics only: Cloud Storage notifies
# nothing but Pub/Sub (storage.tf), so their consumers are pushed by Pub/Sub on either
# backbone and are not the bridge's (kafka.tf).
locals {
  # The topics that are Pub/Sub topics: every one on the Pub/Sub backbone, the storage
  # topics on Kafka.
  pubsub_topic_keys   = var.backbone == "pubsub" ? local.topics : local.storage_topics
  pubsub_topics       = { for t, name in local.topic_names : t => name if contains(local.pubsub_topic_keys, t) }
  pubsub_dead_letters = { for t, name in local.dead_letter_names : t => name if contains(local.pubsub_topic_keys, t) }
  # Every consumer of a Pub/Sub topic: one push subscription each.
  pubsub_consumers = { for name, f in local.event_functions : name => f if contains(local.pubsub_topic_keys, f.topic) }
  # The topics the relay publishes (and parks failed rows on): the outbox's, on the Pub/Sub
  # backbone. Cloud Storage publishes the storage topics itself.
  relay_topics = { for t, name in local.pubsub_topics : t => name if var.backbone == "pubsub" && !contains(local.storage_topics, t) }
}

resource "google_pubsub_topic" "event" {
  for_each = local.pubsub_topics

  name                       = each.value
  message_retention_duration = "86400s"
  labels                     = { topic = each.key }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.pubsub_dead_letters

  name   = each.value
  labels = { topic = each.key, dead-letter = "true" }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.pubsub_dead_letters

  name                       = "${each.value}.hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# One push subscription per consumer: no-wrapper delivery with metadata turns the message's
# ce-* attributes into headers, a binary-mode CloudEvent, as the consumers expect; ordered
# by aggregate; retried with back-off; dead-lettered after max_delivery_attempts (the
# retry policy of var.delivery, which the Kafka bridge follows too). The OIDC token's
# audience is the receiving server's SERVICE_URL.
resource "google_pubsub_subscription" "push" {
  for_each = local.pubsub_consumers

  name                       = "${local.topic_prefix}${each.key}"
  topic                      = google_pubsub_topic.event[each.value.topic].id
  ack_deadline_seconds       = var.delivery.ack_deadline_seconds
  message_retention_duration = "604800s"
  enable_message_ordering    = true
  labels                     = { consumer = each.key, topic = each.value.topic }

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = var.delivery.minimum_backoff
    maximum_backoff = var.delivery.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.topic].id
    max_delivery_attempts = var.delivery.max_delivery_attempts
  }

  push_config {
    push_endpoint = local.consumer_endpoints[each.key]

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = local.consumer_audiences[each.key]
    }

    no_wrapper {
      write_metadata = true
    }
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.deliverer,
    google_service_account_iam_member.pubsub_agent_token_creator,
    google_pubsub_topic_iam_member.pubsub_agent_dead_letter,
  ]
}

# The relay publishes every topic of the outbox and parks failed rows on their dead-letter
# topics.
resource "google_pubsub_topic_iam_member" "relay" {
  for_each = merge(
    { for t, name in local.relay_topics : name => google_pubsub_topic.event[t].name },
    { for t, name in local.relay_topics : local.dead_letter_names[t] => google_pubsub_topic.dead_letter[t].name },
  )

  topic  = each.value
  role   = "roles/pubsub.publisher"
  member = google_service_account.relay.member
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter
# topic and acknowledges on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter" {
  for_each = local.pubsub_dead_letters

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_push" {
  for_each = local.pubsub_consumers

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
