/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "5364c7fb09c5aafc1bfae974fea2fc905cf2aa1f7866736ab8ed6cff614b2f4b";
