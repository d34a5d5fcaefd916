/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "9c30611ace3eadd42eef5a96fa23820f64bdc6ca6450734373e943b1ca9dbe1a";
