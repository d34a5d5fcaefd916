/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "50f12fae4b7fdaa24ee1c230eacd06134bdccd79bfca2ef2929ef72eb696a319";
