/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "9d798eb81578c20206f21b1f2f131626f084bc915450faea9de73786509b3fcb";
