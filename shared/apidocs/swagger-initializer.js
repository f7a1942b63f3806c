// Starts Swagger UI on the API reference page, over the OpenAPI document served beside
// the page (openapi.json). A file of its own, not an inline script, so that the page's
// Content-Security-Policy can allow only the page's own scripts (script-src 'self').
"use strict";

window.ui = SwaggerUIBundle({
  // Relative to the page: /api/v1/docs/openapi.json. "Try it out" calls the API on the
  // same origin (the document's servers), which connect-src 'self' allows.
  url: "openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  // Links to an operation (#/tag/operationId) open it.
  deepLinking: true,
  // A token given to "Authorize" (the bearer scheme) lives in the page's memory only:
  // never written to localStorage, gone with the tab.
  persistAuthorization: false,
  // The page shows this document only: no ?url= or ?configUrl= from the address bar.
  queryConfigEnabled: false,
  // No badge from validator.swagger.io: nothing leaves the origin.
  validatorUrl: null,
  displayRequestDuration: true,
  filter: true,
});
