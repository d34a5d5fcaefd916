/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "1c513a6b154894b211d255fa7a579e12fd5102d074ad0f5e4a78d1e60ad8d8d3";
