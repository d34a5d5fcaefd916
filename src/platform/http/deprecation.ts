import type { Context } from "hono";

/**
 * Marks a response as having used a deprecated form of the request (RFC 9745): `Deprecation` carries the
 * date the form was deprecated (`@` Unix seconds) and `Link` where it is explained (`rel="deprecation"`).
 *
 * @example
 * if (usedLegacyLocation) markDeprecated(c, LEGACY_LOCATION_DEPRECATED);
 */
export function markDeprecated(c: Context, since: Date, link = "/docs"): void {
  c.header("deprecation", `@${Math.floor(since.getTime() / 1000)}`);
  c.header("link", `<${link}>; rel="deprecation"; type="text/html"`);
}
