# One VPC: Cloud Run reaches Cloud SQL, Memorystore and Kafka over private addresses
# with Direct VPC egress (no connector), and nothing of the data tier has a public IP.
resource "google_compute_network" "main" {
  name                    = "market-${var.environment}"
  auto_create_subnetworks = false

  depends_on = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "run" {
  name          = "market-${var.environment}-run"
  network       = google_compute_network.main.id
  region        = var.region
  ip_cidr_range = var.network_cidr
  # Google APIs (Pub/Sub, Secret Manager, run.app for the bridge) without public IPs.
  private_ip_google_access = true
}

resource "google_compute_subnetwork" "kafka" {
  count = var.backbone == "kafka" ? 1 : 0

  name                     = "market-${var.environment}-kafka"
  network                  = google_compute_network.main.id
  region                   = var.region
  ip_cidr_range            = var.kafka_subnet_cidr
  private_ip_google_access = true
}

# Private services access: Cloud SQL and Memorystore get addresses from this range.
resource "google_compute_global_address" "services" {
  name          = "market-${var.environment}-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.main.id
}

resource "google_service_networking_connection" "services" {
  network                 = google_compute_network.main.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.services.name]
}

locals {
  # The vpc_access of every Cloud Run service and job.
  vpc_network    = google_compute_network.main.id
  vpc_subnetwork = google_compute_subnetwork.run.id
}
