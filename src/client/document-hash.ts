/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "d7b4209ca58b08aba7676d4b1ba2c5005b9720d4f95131a8a7122e85749753d4";
