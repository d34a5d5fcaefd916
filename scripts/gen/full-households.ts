/**
 * Households at Ankang's full size (928,329 households over the 39,410 level-2 and level-3 grids), for the
 * import through `POST /v1/households/import`. Deterministic. The mix is built so that the classification
 * rules themselves land on the city's figures (774,040 green, 105,962 yellow, 48,327 red):
 *
 * - each household draws its kind from a low-discrepancy sequence over its global index, so every village
 *   (a contiguous run of grids) gets the city's proportions almost exactly;
 * - red households carry a member with one of the red tags (in turn);
 * - yellow ones fail one green condition: half have a low income (a quarter of those also miss the safe
 *   years, the literal yellow rule), a quarter an unstable income, a quarter only 2 safe years;
 * - green ones have a stable income 5–15 % above their village's base, where the low incomes of yellow and
 *   red households keep the village average about 2 % above the base, so every green household is at or
 *   above its village average.
 */
import { chinaYear, RED_TAGS } from "../../src/domain/classification";
import { makeIdNumber } from "../../src/domain/id-number";
import { share } from "./city-shape";

/** The city's figures. */
export const FULL_HOUSEHOLDS = { total: 928_329, green: 774_040, yellow: 105_962, red: 48_327 } as const;

/** A grid by code (scripts/lib/bench-stack.ts `insertFullCityTree` returns them sorted by code). */
export interface GridRef {
  code: string;
  path: string;
}

const frac = (x: number) => x - Math.floor(x);

/** One import row (the body of `POST /v1/households/import`'s `rows`). */
export interface HouseholdImportRow {
  unitCode: string;
  address: string;
  headName: string;
  incomePerCapita: number;
  incomeStable: boolean;
  safeFamilyYears: number[];
  residents: Array<{
    name: string;
    gender: "male" | "female";
    birthDate: string;
    idNumber: string;
    phone: string;
    relationship: "head";
    tags: string[];
  }>;
}

/**
 * The households, grid by grid (`share` of `total` each), with the kind each was generated as.
 * `residents`: `"red"` gives only red households a member (the one the rule needs); `"all"` gives every
 * household its head, with an ID number and phone.
 */
export function* fullCityHouseholds(
  grids: GridRef[],
  options: { total?: number; residents?: "red" | "all"; asOf?: Date } = {},
): Generator<{ row: HouseholdImportRow; kind: "green" | "yellow" | "red" }> {
  const total = options.total ?? FULL_HOUSEHOLDS.total;
  const y = chinaYear(options.asOf ?? new Date());
  const safe3 = [y - 3, y - 2, y - 1];
  const pRed = FULL_HOUSEHOLDS.red / FULL_HOUSEHOLDS.total;
  const pYellow = FULL_HOUSEHOLDS.yellow / FULL_HOUSEHOLDS.total;
  let i = 0;
  for (let g = 0; g < grids.length; g++) {
    const grid = grids[g]!;
    const village = grid.code.slice(0, 12);
    const base = 8_000 + ((Number(village.slice(-6)) * 7_919) % 12_000);
    const n = share(total, grids.length, g);
    for (let k = 0; k < n; k++, i++) {
      const u = frac((i + 0.5) * 0.6180339887498949);
      const jitter = frac(i * 0.7548776662466927);
      const kind = u < pRed ? "red" : u < pRed + pYellow ? "yellow" : "green";
      let income = Math.round(base * (1.05 + 0.1 * jitter));
      let stable = true;
      let safe = safe3;
      if (kind === "red") {
        income = Math.round(base * (0.25 + 0.25 * jitter));
        stable = jitter < 0.5;
        safe = jitter < 0.3 ? [] : safe3;
      } else if (kind === "yellow") {
        const sub = Math.floor(jitter * 4);
        if (sub <= 1) {
          income = Math.round(base * (0.2 + 0.2 * frac(i * 0.5698402909980532)));
          if (sub === 0) safe = [y - 3];
        } else if (sub === 2) {
          stable = false;
        } else {
          safe = safe3.slice(1);
        }
      }
      const birth = new Date(Date.UTC(1945, 0, 1) + (i % 18_000) * 86_400_000).toISOString().slice(0, 10);
      const withResident = kind === "red" || options.residents === "all";
      const gender = i % 2 === 0 ? "male" : "female";
      const region = `61${String(Math.floor(i / 500) % 10_000).padStart(4, "0")}`;
      yield {
        kind,
        row: {
          unitCode: grid.code,
          address: `${village}村${grid.code.slice(12)}组${k + 1}号`,
          headName: `户主${i}`,
          incomePerCapita: income,
          incomeStable: stable,
          safeFamilyYears: safe,
          residents: withResident
            ? [
                {
                  name: `户主${i}`,
                  gender,
                  birthDate: birth,
                  idNumber: makeIdNumber(region, birth, (i % 500) * 2 + (gender === "male" ? 1 : 0)),
                  phone: `139${String(i).padStart(8, "0")}`,
                  relationship: "head",
                  tags: kind === "red" ? [RED_TAGS[i % RED_TAGS.length]!] : [],
                },
              ]
            : [],
        },
      };
    }
  }
}
