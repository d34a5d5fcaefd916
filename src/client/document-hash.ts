/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "c5d0ca0a51f84c514b564d8f5bac20c6fa5d245804c74385ba855e2d0e493ae4";
