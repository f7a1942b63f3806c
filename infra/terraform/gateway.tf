# API Gateway: one host for all of /api/v1/... . Its OpenAPI 2.0 config is generated from
# the API reference (gateway.json, below), one operation per REST function with an
# x-google-backend naming that function's service, because several functions share a path
# and differ by method, which a load balancer URL map cannot route. The chat server's REST
# routes go to the chat server; its WebSocket does not go through the gateway (API Gateway
# carries none).
#
# The gateway calls a REST function with its own Google ID token (jwt_audience = the
# function's URL, its SERVICE_URL), as the api-gateway account, the only invoker of REST
# functions (functions.tf); it moves the client's Authorization header to
# X-Forwarded-Authorization, where the function reads the access token
# (GATEWAY_INVOKER). The chat server stays public for its WebSocket and checks access
# tokens itself, so its routes keep the client's header (disable_auth).
locals {
  # The gateway's config is the API reference brought down to Swagger 2.0 by `make openapi`
  # (gateway.json: every REST operation with its parameters and schemas, and an OPTIONS
  # operation per path for CORS preflights). Each operation names the service it goes to
  # (x-function, or x-service for the chat server); here that becomes its x-google-backend.
  gateway_doc = jsondecode(file("${path.module}/gateway.json"))

  gateway_backends = merge(
    {
      for name, f in local.http_functions : name => {
        address = local.function_urls[name]
        auth    = { jwt_audience = local.function_urls[name] }
      }
    },
    {
      "chat-server" = { address = local.chat_url, auth = { disable_auth = true } }
    },
  )

  openapi = merge(local.gateway_doc, {
    info = merge(local.gateway_doc.info, { title = "8949 market ${var.environment}" })
    paths = {
      for path, ops in local.gateway_doc.paths : path => {
        for method, op in ops : method => merge(
          { for k, v in op : k => v if k != "x-function" && k != "x-service" },
          {
            # The backend sees the full /api/v1 path (APPEND_PATH_TO_ADDRESS), as on its own
            # URL, and the gateway's ID token for it (jwt_audience), or for the chat server
            # the client's own Authorization (disable_auth).
            x-google-backend = merge({
              address          = local.gateway_backends[try(op["x-function"], op["x-service"])].address
              path_translation = "APPEND_PATH_TO_ADDRESS"
              deadline         = 30
            }, local.gateway_backends[try(op["x-function"], op["x-service"])].auth)
          },
        )
      }
    }
  })
}

resource "google_api_gateway_api" "api" {
  provider = google-beta
  count    = local.gateway_enabled ? 1 : 0

  api_id       = "market-${var.environment}"
  display_name = "8949 market ${var.environment}"

  depends_on = [google_project_service.enabled]
}

resource "google_api_gateway_api_config" "api" {
  provider = google-beta
  count    = local.gateway_enabled ? 1 : 0

  api                  = google_api_gateway_api.api[0].api_id
  api_config_id_prefix = "market-"

  openapi_documents {
    document {
      path     = "openapi.yaml" # JSON is YAML
      contents = base64encode(jsonencode(local.openapi))
    }
  }

  gateway_config {
    backend_config {
      google_service_account = google_service_account.gateway.email
    }
  }

  # A config is immutable: the new one must exist before the gateway moves to it.
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "api" {
  provider = google-beta
  count    = local.gateway_enabled ? 1 : 0

  gateway_id   = "market-${var.environment}"
  api_config   = google_api_gateway_api_config.api[0].id
  region       = local.gateway_region
  display_name = "8949 market ${var.environment}"
}

# The API's own managed service must be enabled for the gateway to serve it.
resource "google_project_service" "gateway_api" {
  count = local.gateway_enabled ? 1 : 0

  service            = google_api_gateway_api.api[0].managed_service
  disable_on_destroy = false
}
