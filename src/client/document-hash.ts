/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "9dba1f3668dfb2c6261d42955fe332c36471b721ec972d8512757bddd7c1286f";
