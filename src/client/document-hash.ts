/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "5d2e8cdb378017f33dc3a8352bb2773ea0318a58b9335c67ff7a5ee58a23d291";
