/**
 * Which URLs an outgoing webhook may target. Only `https` to public addresses, so the feature cannot be
 * turned into a probe of internal networks (SSRF); `http`/`https` to the loopback host only while running
 * locally (ENVIRONMENT `development` or `test`). Hostnames are checked by name: a public name that resolves to
 * a private address is stopped by the platform's egress, not here.
 */

/** The longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const LOCAL_ENVIRONMENTS = ["development", "test"];
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"];

/** Whether webhook targets on the loopback host are allowed in this environment. */
export function isLocalEnvironment(environment: string | undefined): boolean {
  return LOCAL_ENVIRONMENTS.includes(environment ?? "");
}

/**
 * Checks a webhook target URL. Returns the normalized URL, or the reason it is refused.
 *
 * @example
 * checkWebhookUrl("https://10.0.0.8/hook", "production") // { ok: false, reason: "…private…" }
 * checkWebhookUrl("http://127.0.0.1:9000/hook", "development") // { ok: true, url: "http://127.0.0.1:9000/hook" }
 */
export function checkWebhookUrl(
  raw: string,
  environment: string | undefined,
): { ok: true; url: string } | { ok: false; reason: string } {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, reason: "the URL is too long" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not an absolute URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const local = isLocalEnvironment(environment) && LOOPBACK_HOSTS.includes(host);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    return { ok: false, reason: "only https URLs are allowed" };
  }
  if (local) return { ok: true, url: url.href };
  if (host.startsWith("[")) {
    return isPublicIpv6(host.slice(1, -1))
      ? { ok: true, url: url.href }
      : { ok: false, reason: "the address is private, loopback, link-local or reserved" };
  }
  const v4 = parseIpv4(host);
  if (v4 !== null) {
    return isPublicIpv4(v4)
      ? { ok: true, url: url.href }
      : { ok: false, reason: "the address is private, loopback, link-local or reserved" };
  }
  if (host === "localhost" || INTERNAL_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    return { ok: false, reason: "the host name is internal" };
  }
  return { ok: true, url: url.href };
}

/** The four octets of a dotted-quad address (URL parsing has already normalized other notations), or null. */
function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** CIDR blocks that are not public unicast: this network, private, CGNAT, loopback, link-local, test, multicast, reserved. */
const V4_BLOCKED: Array<[number, number, number, number, number]> = [
  [0, 0, 0, 0, 8],
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10],
  [127, 0, 0, 0, 8],
  [169, 254, 0, 0, 16],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24],
  [192, 0, 2, 0, 24],
  [192, 88, 99, 0, 24],
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15],
  [198, 51, 100, 0, 24],
  [203, 0, 113, 0, 24],
  [224, 0, 0, 0, 4],
  [240, 0, 0, 0, 4],
];

function isPublicIpv4(o: number[]): boolean {
  const n = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  return !V4_BLOCKED.some(([a, b, c, d, bits]) => {
    const base = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === (base & mask) >>> 0;
  });
}

/** The eight hextets of an IPv6 address as URL parsing serializes it (hex groups, at most one `::`), or null. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (![...head, ...tail].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  return [...head, ...new Array<string>(fill).fill("0"), ...tail].map((g) => Number.parseInt(g, 16));
}

/** Only global unicast (2000::/3) outside documentation, 6to4 and Teredo ranges counts as public. */
function isPublicIpv6(text: string): boolean {
  const h = parseIpv6(text);
  if (!h) return false;
  if ((h[0]! & 0xe000) !== 0x2000) return false;
  if (h[0] === 0x2001 && h[1] === 0x0db8) return false;
  if (h[0] === 0x2001 && h[1] === 0x0000) return false;
  if (h[0] === 0x2002) return false;
  return true;
}
