# Kafka backbone: a Managed Service for Apache Kafka cluster reachable from the VPC, a topic
# per event type and its dead-letter topic, and the push bridge, which is the relay service
# run with BACKBONE=kafka (relay.tf: BRIDGE_TARGETS names every consumer's endpoint and
# token audience).
#
# The cluster accepts only SASL over TLS; the relay connects with KAFKA_TLS=true and
# KAFKA_SASL=gcp (OAUTHBEARER with its service account's Google token, shared/bus).
locals {
  kafka_enabled = var.backbone == "kafka"
  kafka_cluster = "market-${var.environment}"
  # The bootstrap address the service publishes in the VPC's DNS.
  kafka_bootstrap     = "bootstrap.${local.kafka_cluster}.${var.region}.managedkafka.${var.project_id}.cloud.goog:9092"
  kafka_topics        = { for t, name in local.topic_names : t => name if local.kafka_enabled }
  kafka_dead_letters  = { for t, name in local.dead_letter_names : t => name if local.kafka_enabled }
  kafka_partitions    = 4 # bus.KafkaPartitions, what the relay gives topics it creates (the infra test checks)
  kafka_topic_configs = { "retention.ms" = "604800000", "min.insync.replicas" = "2" }

  # The push bridge's BRIDGE_TARGETS (outbox-relay/bridge): every consumer, hosted or not,
  # with the topic it consumes (without prefix), where it is called and the audience of the
  # ID token its server checks, the same as a push subscription's. Not the storage topics'
  # consumers: Cloud Storage notifies Pub/Sub, which pushes to them (pubsub.tf).
  bridge_targets = {
    for name, f in local.event_functions : name => {
      topic    = f.topic
      url      = local.consumer_endpoints[name]
      audience = local.consumer_audiences[name]
    } if !contains(keys(local.storage_consumers), name)
  }
}

resource "google_managed_kafka_cluster" "main" {
  count = local.kafka_enabled ? 1 : 0

  cluster_id = local.kafka_cluster
  location   = var.region

  capacity_config {
    vcpu_count   = var.kafka.vcpu_count
    memory_bytes = var.kafka.memory_gib * 1024 * 1024 * 1024
  }

  gcp_config {
    access_config {
      network_configs {
        subnet = google_compute_subnetwork.kafka[0].id
      }
    }
  }

  rebalance_config {
    mode = "AUTO_REBALANCE_ON_SCALE_UP"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_managed_kafka_topic" "event" {
  for_each = local.kafka_topics

  topic_id           = each.value
  cluster            = google_managed_kafka_cluster.main[0].cluster_id
  location           = var.region
  partition_count    = local.kafka_partitions
  replication_factor = var.kafka.replication_factor
  configs            = local.kafka_topic_configs
}

resource "google_managed_kafka_topic" "dead_letter" {
  for_each = local.kafka_dead_letters

  topic_id           = each.value
  cluster            = google_managed_kafka_cluster.main[0].cluster_id
  location           = var.region
  partition_count    = local.kafka_partitions
  replication_factor = var.kafka.replication_factor
  configs            = local.kafka_topic_configs
}
