# API Gateway: one host for all of /api/v1/... . Its OpenAPI 2.0 config is built here
# from the manifest, one operation per REST function with an x-google-backend naming that
# function's service, because several functions share a path and differ by method, which
# a load balancer URL map cannot route. The chat server's REST routes go to the chat
# server; its WebSocket does not go through the gateway (API Gateway carries none).
#
# The gateway calls a REST function with its own Google ID token (jwt_audience = the
# function's URL, its SERVICE_URL), as the api-gateway account, the only invoker of REST
# functions (functions.tf); it moves the client's Authorization header to
# X-Forwarded-Authorization, where the function reads the access token
# (GATEWAY_INVOKER). The chat server stays public for its WebSocket and checks access
# tokens itself, so its routes keep the client's header (disable_auth).
locals {
  # The chat server's REST routes (chat-server/, not functions of the registry).
  chat_routes = {
    "GET /api/v1/chat/rooms"                   = "chat_rooms_list"
    "GET /api/v1/chat/rooms/{roomId}"          = "chat_rooms_get"
    "GET /api/v1/chat/rooms/{roomId}/messages" = "chat_messages_list"
    "POST /api/v1/chat/rooms/{roomId}/read"    = "chat_rooms_read"
  }

  gateway_operations = merge(
    {
      for name, f in local.http_functions : "${f.method} ${f.path}" => {
        method       = f.method
        path         = f.path
        operation    = replace(name, "-", "_")
        backend      = local.function_urls[name]
        backend_auth = { jwt_audience = local.function_urls[name] }
      }
    },
    {
      for route, operation in local.chat_routes : route => {
        method       = split(" ", route)[0]
        path         = split(" ", route)[1]
        operation    = operation
        backend      = local.chat_url
        backend_auth = { disable_auth = true }
      }
    },
  )
  gateway_paths = distinct([for route, op in local.gateway_operations : op.path])

  openapi = {
    swagger  = "2.0"
    info     = { title = "8949 market ${var.environment}", version = "1.0.0" }
    schemes  = ["https"]
    consumes = ["application/json"]
    produces = ["application/json"]
    paths = {
      for path in local.gateway_paths : path => {
        for route, op in local.gateway_operations : lower(op.method) => {
          operationId = op.operation
          parameters = [
            for m in regexall("{([A-Za-z0-9_]+)}", path) : { name = m[0], in = "path", required = true, type = "string" }
          ]
          # The backend sees the full /api/v1 path (APPEND_PATH_TO_ADDRESS), as on its own
          # URL, and the gateway's ID token for it (jwt_audience), or for the chat server
          # the client's own Authorization (disable_auth).
          x-google-backend = merge({
            address          = op.backend
            path_translation = "APPEND_PATH_TO_ADDRESS"
            deadline         = 30
          }, op.backend_auth)
          responses = { default = { description = "The platform's JSON envelope." } }
        } if op.path == path
      }
    }
  }
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
