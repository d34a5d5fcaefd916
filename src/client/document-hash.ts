/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "0f2a8513edd35e07b38b1f528a3ff66c3ebcdca981fc1a316079d5339b1d9d90";
