/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "0ac3bbabdc683cd41dcf5c264e05993e18b2cbc4006f73db7859a31b1f0b1c81";
