/**
 * Open311 GeoReport v2 bodies in JSON or XML, as the specification spells them: JSON arrays of flat objects,
 * XML with a plural root and one element per item (`<services><service>…`), and errors as
 * `[{code, description}]` / `<errors><error>…`.
 */

/** The two formats of GeoReport v2, chosen by the path's extension. */
export type Open311Format = "json" | "xml";

/** An Open311 value: scalars, or lists of objects (a service definition's attributes and their values). */
export type Open311Value = string | number | boolean | null | Open311Object[];
export interface Open311Object {
  [field: string]: Open311Value;
}

/** The element name of one item of a list field (`attributes` → `attribute`). */
const SINGULAR: Record<string, string> = {
  services: "service",
  service_requests: "request",
  attributes: "attribute",
  values: "value",
  errors: "error",
};

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[ch]!,
  );

function element(name: string, value: Open311Value): string {
  if (value === null) return `<${name}/>`;
  if (Array.isArray(value)) {
    const item = SINGULAR[name] ?? "item";
    return `<${name}>${value.map((v) => objectElement(item, v)).join("")}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function objectElement(name: string, object: Open311Object): string {
  return `<${name}>${Object.entries(object)
    .map(([k, v]) => element(k, v))
    .join("")}</${name}>`;
}

/**
 * A GeoReport body: `root` names the XML root of a list (`services`, `service_requests`, `errors`), or of a
 * single object when `single` is given (`service_definition`).
 *
 * @example
 * open311Body("xml", "services", [{ service_code: "road" }]); // <?xml …?><services><service><service_code>road…
 */
export function open311Body(
  format: Open311Format,
  root: string,
  content: Open311Object[] | Open311Object,
): { body: string; contentType: string } {
  if (format === "json")
    return { body: JSON.stringify(content), contentType: "application/json; charset=utf-8" };
  const xml = Array.isArray(content) ? element(root, content) : objectElement(root, content);
  return { body: `<?xml version="1.0" encoding="UTF-8"?>${xml}`, contentType: "text/xml; charset=utf-8" };
}

/** The GeoReport error body: a list of `{code, description}` (HTTP status as the code). */
export function open311Errors(format: Open311Format, status: number, description: string) {
  return open311Body(format, "errors", [{ code: status, description }]);
}
