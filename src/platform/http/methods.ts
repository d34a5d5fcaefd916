/** A route as Hono records it in `app.routes`. */
export interface RegisteredRoute {
  method: string;
  path: string;
}

const ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const patterns = new Map<string, RegExp>();

function patternOf(path: string): RegExp {
  const cached = patterns.get(path);
  if (cached) return cached;
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  const pattern = new RegExp(`^${source}/?$`);
  patterns.set(path, pattern);
  return pattern;
}

function rank(method: string): number {
  const index = ORDER.indexOf(method);
  return index < 0 ? ORDER.length : index;
}

/**
 * The methods some route answers on `path`, for a 405's `Allow` header (empty when no route has the path).
 * Middleware (`ALL`) does not count; a GET route also answers HEAD.
 *
 * @example
 * allowedMethods(app.routes, "/v1/me"); // ["GET", "HEAD"]
 */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    const method = route.method.toUpperCase();
    if (method === "ALL" || methods.has(method)) continue;
    if (patternOf(route.path).test(path)) methods.add(method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort((a, b) => rank(a) - rank(b));
}
