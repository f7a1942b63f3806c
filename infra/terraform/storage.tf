# Product photos (docs/photos.md): clients upload originals straight to the private uploads
# bucket with signed URLs, Cloud Storage announces each finished upload on the storage
# topics (Pub/Sub, on either backbone: pubsub.tf), their consumer processes it into the
# public photos bucket and deletes the original. Who may do what with each bucket is in
# iam.tf (local.bucket_grants), from the manifest's "buckets" per function.
locals {
  # Bucket names are global: the project and the environment make them unique.
  bucket_names = {
    uploads = "${var.project_id}-${var.environment}-uploads"
    photos  = "${var.project_id}-${var.environment}-photos"
  }
  # The base of the photos' URLs (PHOTOS_URL): a CDN's when var.photos_url names one, else
  # the bucket's own public URL.
  photos_url = var.photos_url != "" ? var.photos_url : "https://storage.googleapis.com/${local.bucket_names.photos}"
}

# The clients' originals, as uploaded (with their EXIF, GPS included): private, nobody but
# the platform's functions reads them, and nothing lasts. The consumer deletes what it has
# processed; the lifecycle rules delete what was abandoned (a signed URL never used to the
# end, a multipart upload never completed) after a day; and no soft delete, so a deleted
# original is gone.
resource "google_storage_bucket" "uploads" {
  name                        = local.bucket_names.uploads
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.storage_force_destroy
  labels                      = local.labels

  # Browsers PUT to the signed URLs from the front end's origins. The signed headers
  # (Content-Type and the size range, shared/storage) are not CORS-safelisted, so the
  # preflight must allow both.
  cors {
    origin          = var.cors_allowed_origins
    method          = ["PUT"]
    response_header = ["Content-Type", "x-goog-content-length-range"]
    max_age_seconds = 3600
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  soft_delete_policy {
    retention_duration_seconds = 0
  }

  depends_on = [google_project_service.enabled]
}

# The processed photos (resized, metadata stripped): public, since listings are public and
# a photo's URL must be stable to be cached (a signed GET URL would change with every
# answer). With photos_public = false nothing grants allUsers and public access is
# prevented: PHOTOS_URL (var.photos_url) must then name a CDN that reads the bucket with
# its own access. Photos are deleted by the functions only (no lifecycle rule).
resource "google_storage_bucket" "photos" {
  name                        = local.bucket_names.photos
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = var.photos_public ? "inherited" : "enforced"
  force_destroy               = var.storage_force_destroy
  labels                      = local.labels

  cors {
    origin          = var.cors_allowed_origins
    method          = ["GET", "HEAD"]
    response_header = ["Content-Type"]
    max_age_seconds = 3600
  }

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_iam_member" "photos_public" {
  count = var.photos_public ? 1 : 0

  bucket = google_storage_bucket.photos.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

# Cloud Storage's service agent publishes the notifications: it may publish to the storage
# topics, and to nothing else.
data "google_storage_project_service_account" "this" {
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic_iam_member" "storage_agent" {
  for_each = local.storage_topics

  topic  = google_pubsub_topic.event[each.key].name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${data.google_storage_project_service_account.this.email_address}"
}

# A finished upload (OBJECT_FINALIZE, the object as JSON) is announced on each storage
# topic; shared/objectevent reads it as a CloudEvent.
resource "google_storage_notification" "uploads" {
  for_each = local.storage_topics

  bucket         = google_storage_bucket.uploads.name
  payload_format = "JSON_API_V1"
  topic          = google_pubsub_topic.event[each.key].id
  event_types    = ["OBJECT_FINALIZE"]

  depends_on = [google_pubsub_topic_iam_member.storage_agent]
}
