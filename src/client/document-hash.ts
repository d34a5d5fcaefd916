/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "d482cb8465e1b2c7bc2d69412338fd923bd7a76dc47c6db0c71efb1bc3e90739";
