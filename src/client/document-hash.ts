/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "fcf55103e1c364609245b51ada583b1bbdf5f7175adfc50f256349de3af6d946";
