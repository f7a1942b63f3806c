output "api_url" {
  description = "API Gateway base URL: every /api/v1/... route (REST functions and the chat server's REST routes). Null without the gateway."
  value       = local.gateway_enabled ? "https://${google_api_gateway_gateway.api[0].default_hostname}" : null
}

output "function_urls" {
  description = "Each REST function's own HTTPS URL, by route (\"METHOD /api/v1/path\"); the request keeps its full path. With api_gateway on, only the gateway may call these: clients use api_url."
  value       = { for name, f in local.http_functions : "${f.method} ${f.path}" => google_cloud_run_v2_service.function[name].uri }
}

output "chat_url" {
  description = "The chat server: WebSocket /api/v1/chat/ws and its REST routes."
  value       = google_cloud_run_v2_service.chat.uri
}

output "topics" {
  description = "Stream topic of each event type."
  value       = local.topic_names
}

output "dead_letter_topics" {
  description = "Dead-letter topic of each event type."
  value       = local.dead_letter_names
}

output "consumer_endpoints" {
  description = "Where each consumer function receives its events (push subscription or bridge target)."
  value       = local.consumer_endpoints
}

output "database_instance" {
  description = "Cloud SQL instance connection name (for the Cloud SQL Auth Proxy when an operator needs psql)."
  value       = google_sql_database_instance.main.connection_name
}

output "image_repository" {
  description = "Where make images pushes (IMAGE_REPO)."
  value       = local.registry_host
}

output "kafka_bootstrap" {
  description = "Managed Kafka bootstrap address (kafka backbone only)."
  value       = local.kafka_enabled ? local.kafka_bootstrap : null
}

output "uploads_bucket" {
  description = "The private bucket clients upload photos' originals to (signed URLs)."
  value       = google_storage_bucket.uploads.name
}

output "photos_bucket" {
  description = "The bucket of the processed photos."
  value       = google_storage_bucket.photos.name
}

output "photos_url" {
  description = "Base URL of the photos (PHOTOS_URL): var.photos_url, or the photos bucket's public URL."
  value       = local.photos_url
}

output "workload_identity_provider" {
  description = "Full name of the GitHub Actions Workload Identity provider (projects/<number>/locations/global/workloadIdentityPools/github/providers/github-actions): the repository variable WIF_PROVIDER. Null without github_repository."
  value       = local.cicd_enabled ? google_iam_workload_identity_pool_provider.github[0].name : null
}

output "deployer_service_account" {
  description = "E-mail of the CI/CD deployer account: the repository variable DEPLOYER_SERVICE_ACCOUNT. Null without github_repository."
  value       = local.cicd_enabled ? google_service_account.deployer.email : null
}

output "artifact_registry" {
  description = "Where the release pushes the images (KO_DOCKER_REPO): the \"market\" Artifact Registry repository. Null without github_repository."
  value       = local.cicd_enabled ? local.registry_host : null
}
