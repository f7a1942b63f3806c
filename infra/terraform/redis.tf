# Memorystore for Redis on private services access, AUTH on. Transit encryption stays off:
# the traffic never leaves the VPC, and go-redis would need the instance's own CA to
# verify it.
resource "google_redis_instance" "main" {
  name               = "market-${var.environment}"
  tier               = var.redis.tier
  memory_size_gb     = var.redis.memory_size_gb
  region             = var.region
  redis_version      = "REDIS_7_2"
  authorized_network = google_compute_network.main.id
  connect_mode       = "PRIVATE_SERVICE_ACCESS"
  auth_enabled       = true
  # Refresh-token families and the denylist (all with TTLs) are state that cannot be
  # rebuilt: a full instance should refuse writes, visibly, rather than evict a revocation.
  redis_configs = {
    maxmemory-policy = "noeviction"
  }

  depends_on = [google_service_networking_connection.services]
}
