/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "6e81155b8d715a6a1ea448e02bffd682972de90365ebd0db24da89774c51f5d8";
