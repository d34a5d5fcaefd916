/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "87d9ed0b918f4ec576e727e0af1f0255f9abbab4d7d4f901097854982036b48a";
