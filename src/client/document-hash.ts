/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "4f3794ee696b3952cfa628e039089fec574e90942ed5f19fd61ca924fb3ad5c7";
