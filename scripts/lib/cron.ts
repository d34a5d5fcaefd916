/**
 * Enough of Cloudflare's cron syntax to run wrangler.toml's `[triggers] crons` under `npm run dev`, where
 * wrangler does not run them: five fields (minute, hour, day of month, month, day of week) in UTC, each `*`,
 * a number, a range `a-b`, a step `*\/n` or `a-b/n`, or a comma list of those; months `JAN`–`DEC` and days
 * `SUN`–`SAT` by name. Cloudflare numbers days of the week 1–7 from Sunday. Anything else (`L`, `W`, `#`)
 * is refused rather than guessed.
 *
 * @example
 *   const due = cronMatcher("*\/5 * * * *");
 *   due(new Date("2026-12-01T10:05:00Z")); // true
 */

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface Field {
  min: number;
  max: number;
  names?: string[];
  /** The number the first name stands for. */
  nameBase?: number;
}

const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 1, max: 7, names: DAYS, nameBase: 1 },
];

function fieldValue(token: string, field: Field, expr: string): number {
  const named = field.names?.indexOf(token.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + (field.nameBase ?? 0) : /^\d+$/.test(token) ? Number(token) : Number.NaN;
  if (!Number.isInteger(value) || value < field.min || value > field.max) {
    throw new Error(`cron "${expr}": "${token}" is not supported here (${field.min}–${field.max})`);
  }
  return value;
}

function parseField(text: string, field: Field, expr: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`cron "${expr}": bad step in "${part}"`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = field.min;
      to = field.max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      from = fieldValue(a, field, expr);
      to = fieldValue(b, field, expr);
    } else {
      from = fieldValue(range, field, expr);
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** A predicate telling whether `expr` fires in the UTC minute of a given time; throws on syntax it refuses. */
export function cronMatcher(expr: string): (at: Date) => boolean {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expr}": expected 5 fields`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, expr)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const anyDom = parts[2] === "*";
  const anyDow = parts[4] === "*";
  return (at) => {
    if (!minute.has(at.getUTCMinutes()) || !hour.has(at.getUTCHours()) || !month.has(at.getUTCMonth() + 1)) {
      return false;
    }
    const domOk = dom.has(at.getUTCDate());
    const dowOk = dow.has(at.getUTCDay() + 1);
    // As in cron: when both day fields are restricted, either one matching is enough.
    return anyDom || anyDow ? domOk && dowOk : domOk || dowOk;
  };
}

/** The cron expressions in wrangler.toml's `[triggers]` table (`crons = [...]`), in order. */
export function cronsFromWranglerToml(toml: string): string[] {
  const section = /^\[triggers\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  const list = /^\s*crons\s*=\s*\[([\s\S]*?)\]/m.exec(section)?.[1];
  if (list === undefined) return [];
  return [...list.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => (m[1] ?? m[2])!);
}
