/** SHA-256 of the /openapi.json that src/client/api.d.ts was generated from (`npm run client:generate`). */
export const OPENAPI_SHA256 = "8024454efeed1146de6240a62fef456d89651fb25970c8352882997f40c262ea";
