/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "2d617da3721d8dc5513e06692bad379bf91e507a023f086bba8bdc0c4d1203cc";
