/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "4ebc073960093c95c249301ed77ec5a9e0e5f2b51a92f714e34d84a5b20b1da8";
