/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "4ad653eecddec119831dc4e8b087af4da753d574f00f2676f402f4b8e53b8fd9";
