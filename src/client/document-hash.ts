/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "de10e595fe99603a06df05f6c0dd55a4293bf356c8d30d05822c37aced68dedf";
