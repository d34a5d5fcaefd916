/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "60c4ff5bb8190638161a611e4314fca07eff968321da52c0ca46135bb3cac61d";
