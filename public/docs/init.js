// Starts Swagger UI (bundled from the pinned npm package swagger-ui-dist into /docs/vendor/ by
// scripts/docs-assets.ts) on this API's own OpenAPI document. Nothing is fetched from another origin:
// the online validator badge is off.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false,
  // Tags start collapsed: 180 operations expanded at once stop Swagger UI rendering after the first tags.
  docExpansion: "none",
  defaultModelsExpandDepth: 0,
});
