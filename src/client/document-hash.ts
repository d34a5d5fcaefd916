/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "8cf900c31e2c5222c4ffd05e30be5785822be0b6d9f152813f1eb7ecb2fe32f1";
