/** Default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Bulk import endpoints (`…/import`) accept up to 16 MiB of JSON. */
export const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;
/** Evidence uploads (`…/attachments`) accept up to 10 MiB of raw image bytes. */
export const ATTACHMENT_BODY_LIMIT = 10 * 1024 * 1024;

/** The body limit that applies to a request path. */
export function bodyLimitFor(path: string): number {
  if (path.endsWith("/import")) return IMPORT_BODY_LIMIT;
  if (path.endsWith("/attachments")) return ATTACHMENT_BODY_LIMIT;
  return DEFAULT_BODY_LIMIT;
}

/** Paths whose bodies are raw bytes rather than JSON (Open311 GeoReport posts forms, as its specification says). */
export function isRawBodyPath(path: string): boolean {
  return path.endsWith("/attachments") || path.startsWith("/open311/");
}
