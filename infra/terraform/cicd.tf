# CI/CD: GitHub Actions builds the images with ko, pushes them to the Artifact Registry
# repository of apis.tf (google_artifact_registry_repository.images, "market", reused
# here: local.registry_host is its address) and deploys them, as the `deployer` service
# account, authenticated by Workload Identity Federation: GitHub's OIDC token for a run
# is exchanged for a short-lived token of the deployer. There is no key file, and the
# module creates no google_service_account_key (the infra test checks).
#
# Everything here exists only when var.github_repository names the repository
# ("owner/name"); unset (""), the module creates none of it (but the deployer account,
# disabled: see there) and an operator deploys by hand (docs/deploy.md).
#
# What the deployer may do (docs/deploy.md, "The pipeline"):
#   - always (the release): push images to the "market" repository, point every Cloud Run
#     service and job at a new image digest, and run the migration job;
#   - with var.deployer_applies_infra: also `terraform apply` the whole module, which
#     manages IAM, networks, Cloud SQL, Pub/Sub and more, and so needs the admin roles of
#     every resource type the module declares (local.deployer_infra_roles). Be honest
#     about what that is: an account that may set the project's IAM policy
#     (resourcemanager.projectIamAdmin) can grant itself anything, so with this on the
#     deployer is as trusted as a project owner, and only the attribute condition below
#     (this repository, its main branch and v* tags) stands between GitHub and the
#     project. The enumeration still keeps roles/editor and roles/owner off it, and
#     mistakes within the roles' scope.

locals {
  cicd_enabled = var.github_repository != ""

  # Who may exchange a GitHub token at all: runs of this repository, for its main branch
  # or a v* tag (GitHub signs assertion.repository and assertion.ref into every token).
  # Pull requests, other branches and forks get nothing. var.github_repository is
  # validated to letters, digits and ._- around one slash, so it cannot break out of the
  # quotes.
  github_attribute_condition = join(" && ", [
    "assertion.repository == '${var.github_repository}'",
    "(assertion.ref == 'refs/heads/main' || assertion.ref.startsWith('refs/tags/v'))",
  ])

  # The accounts the Cloud Run services and jobs run as. Deploying a new revision of a
  # service (or updating a job) that runs as an account is acting as that account
  # (iam.serviceAccounts.actAs), so the deployer is a serviceAccountUser on each of these
  # and on no other account: not the push, scheduler or gateway identities, which no
  # release changes. Keys are the Cloud Run service or job that runs as the account.
  runtime_accounts = merge(
    { for name in keys(local.service_functions) : name => google_service_account.function[name].email },
    {
      (local.relay_service) = google_service_account.relay.email
      (local.chat_service)  = google_service_account.chat.email
      migrate               = google_service_account.migrate.email
      "outbox-lag"          = google_service_account.monitor.email
    },
  )

  # The release's one project-level role: roles/run.developer, to deploy revisions of
  # every service, update the jobs, run the migration job (run.jobs.run) and read
  # revisions and operations (a rollback lists them). It cannot change who may invoke a
  # service (no setIamPolicy). Per-service grants would have to follow every function
  # the registry adds, which only an apply can create, so it is the project's.
  deployer_release_roles = ["roles/run.developer"]

  # Applying the whole module (var.deployer_applies_infra): the admin role of each kind of
  # resource the module declares, and nothing broader. The infra test derives the list
  # from the module's resource types, so a new type needs its role here.
  deployer_infra_roles = [
    "roles/apigateway.admin",                # google_api_gateway_*
    "roles/artifactregistry.admin",          # google_artifact_registry_repository, its IAM
    "roles/cloudscheduler.admin",            # google_cloud_scheduler_job
    "roles/cloudsql.admin",                  # google_sql_*
    "roles/compute.networkAdmin",            # google_compute_* (network, subnets, the peering range)
    "roles/iam.roleAdmin",                   # google_project_iam_custom_role
    "roles/iam.serviceAccountAdmin",         # google_service_account, google_service_account_iam_member
    "roles/iam.serviceAccountUser",          # act as every account a service, job, subscription, scheduler job or gateway uses, new functions' too
    "roles/iam.workloadIdentityPoolAdmin",   # google_iam_workload_identity_pool* (this file)
    "roles/logging.configWriter",            # google_logging_metric
    "roles/managedkafka.admin",              # google_managed_kafka_*
    "roles/monitoring.editor",               # google_monitoring_* (alert policies, channels, dashboards)
    "roles/pubsub.admin",                    # google_pubsub_*
    "roles/redis.admin",                     # google_redis_instance
    "roles/resourcemanager.projectIamAdmin", # google_project_iam_member
    "roles/run.admin",                       # google_cloud_run_v2_*, their IAM, terraform_data.migrate (gcloud run jobs execute)
    "roles/secretmanager.admin",             # google_secret_manager_*
    "roles/servicenetworking.networksAdmin", # google_service_networking_connection
    "roles/serviceusage.serviceUsageAdmin",  # google_project_service
    "roles/storage.admin",                   # google_storage_* (buckets, their IAM, notifications)
  ]

  deployer_project_roles = local.cicd_enabled ? toset(var.deployer_applies_infra ? local.deployer_infra_roles : local.deployer_release_roles) : toset([])
}

# The token exchange (Security Token Service), which apis.tf does not enable; IAM
# Credentials (the deployer's short-lived tokens) and Artifact Registry it does.
resource "google_project_service" "cicd" {
  for_each = local.cicd_enabled ? toset(["sts.googleapis.com"]) : toset([])

  service            = each.value
  disable_on_destroy = false
}

# The pool GitHub's identities live in. A deleted pool keeps its id for 30 days: to create
# it again within them, undelete it (gcloud iam workload-identity-pools undelete github
# --location=global) and import it.
resource "google_iam_workload_identity_pool" "github" {
  count = local.cicd_enabled ? 1 : 0

  workload_identity_pool_id = "github"
  display_name              = "GitHub Actions"
  description               = "GitHub Actions runs of ${var.github_repository} (${local.labels.app} ${var.environment})."

  depends_on = [google_project_service.enabled, google_project_service.cicd]
}

# GitHub's OIDC issuer. The attributes: google.subject (repo:owner/name:ref:refs/heads/main,
# what audit logs show; Google takes at most 127 bytes of it, which a repository name
# near GitHub's 100-character limit would pass), and the repository, its owner and the
# ref, which the condition and the deployer's principalSet read.
resource "google_iam_workload_identity_pool_provider" "github" {
  count = local.cicd_enabled ? 1 : 0

  workload_identity_pool_id          = google_iam_workload_identity_pool.github[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "github-actions"
  display_name                       = "GitHub Actions OIDC"
  description                        = "Tokens of ${var.github_repository}'s main branch and v* tags."

  attribute_mapping = {
    "google.subject"             = "assertion.sub"
    "attribute.repository"       = "assertion.repository"
    "attribute.repository_owner" = "assertion.repository_owner"
    "attribute.ref"              = "assertion.ref"
  }
  attribute_condition = local.github_attribute_condition

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

# The deployer: the identity of the release workflow. Unlike everything else here it
# exists without var.github_repository too, disabled (it cannot authenticate, has no key
# and holds no role then): the infra tests' evaluator stubs every google_service_account
# as a single account (tfeval_test.go, storage_test.go), so a count or for_each here
# would break them. Once they handle both, gate it like the rest.
resource "google_service_account" "deployer" {
  account_id   = "deployer"
  display_name = "CI/CD deployer (GitHub Actions)"
  description  = local.cicd_enabled ? "Pushes images and deploys ${local.labels.app} ${var.environment} from ${var.github_repository}, through Workload Identity Federation only (no key)." : "CI/CD deployer of ${local.labels.app} ${var.environment}: disabled, github_repository is not set."
  disabled     = !local.cicd_enabled

  depends_on = [google_project_service.enabled]
}

# GitHub runs of the repository (those the provider's condition admits: main and v* tags)
# may mint the deployer's tokens; no other principal may.
resource "google_service_account_iam_member" "deployer_workload_identity" {
  count = local.cicd_enabled ? 1 : 0

  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}/attribute.repository/${var.github_repository}"
}

# Push (and read) images in the "market" repository only: not the project's other
# repositories, and no deletion (the cleanup policy of apis.tf deletes).
resource "google_artifact_registry_repository_iam_member" "deployer" {
  count = local.cicd_enabled ? 1 : 0

  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.deployer.member
}

# Deploy: roles/run.developer, or with deployer_applies_infra the admin roles of
# local.deployer_infra_roles (see there, and the top of this file).
resource "google_project_iam_member" "deployer" {
  for_each = local.deployer_project_roles

  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer.member
}

# Act as exactly the accounts the Cloud Run services and jobs run as (local.runtime_accounts),
# to deploy them. With deployer_applies_infra the project-level serviceAccountUser of
# local.deployer_infra_roles covers these and the rest; these grants stay, so turning it
# off never leaves the release without them.
resource "google_service_account_iam_member" "deployer_act_as" {
  for_each = { for name, email in local.runtime_accounts : name => email if local.cicd_enabled }

  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.deployer.member
}

# The Terraform state (var.tf_state_bucket, made by hand before the first apply and never
# by this module): read and write its objects, the lock included, to plan and apply from
# CI. Object access only, on that bucket only; it may be in another project.
resource "google_storage_bucket_iam_member" "deployer_state" {
  count = local.cicd_enabled && var.tf_state_bucket != "" ? 1 : 0

  bucket = var.tf_state_bucket
  role   = "roles/storage.objectUser"
  member = google_service_account.deployer.member
}
