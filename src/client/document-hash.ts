/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "6a9b383001305f5f9bf2730aa65e3a6e0482f4a7944cb49b62518dd34f3fce54";
