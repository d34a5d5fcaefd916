/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "1e3ac0538f0fdcedb2543572cdfae24647c5322bcade13d83dc0121122891673";
