// Starts Swagger UI (loaded by /docs as a plain script) on the contract this service serves.
// "Authorize" takes a token from POST /api/auth (the contract's BearerAuth scheme); it is kept
// in this page only, and "Try it out" sends requests to this same origin.
window.ui = window.SwaggerUIBundle({
  url: '/api/openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  layout: 'BaseLayout',
  presets: [window.SwaggerUIBundle.presets.apis],
  persistAuthorization: false,
  queryConfigEnabled: false,
});
