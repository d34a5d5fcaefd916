/**
 * The real Ankang unit tree at full size, generated deterministically: 10 counties, 140 towns,
 * 5,916 villages (level-1 grids), 16,572 level-2 and 22,838 level-3 grids.
 */
export const FULL_CITY = {
  counties: 10,
  townsPerCounty: 14,
  villages: 5_916,
  level2Grids: 16_572,
  level3Grids: 22_838,
} as const;

/** A tree shape like FULL_CITY (e.g. a scaled-down one for a quick run). */
export type CityShape = { readonly [K in keyof typeof FULL_CITY]: number };

export interface GeneratedUnit {
  code: string;
  name: string;
  level: "county" | "town" | "village" | "grid";
  parentCode: string;
}

/** Spreads `total` items over `buckets` as evenly as possible; the count for bucket `i`. */
export function share(total: number, buckets: number, i: number): number {
  return Math.floor(((i + 1) * total) / buckets) - Math.floor((i * total) / buckets);
}

/**
 * The full-size tree below a city, top-down (every parent before its children), ready for
 * `POST /v1/units/import`. County codes start at `cityPrefix` + `firstCounty` so they can sit beside the
 * demo counties.
 */
export function* fullCityUnits(
  cityCode: string,
  firstCounty = 60,
  shape: CityShape = FULL_CITY,
): Generator<GeneratedUnit> {
  const prefix = cityCode.slice(0, 4);
  const towns: string[] = [];
  for (let c = 0; c < shape.counties; c++) {
    const countyCode = `${prefix}${String(firstCounty + c).padStart(2, "0")}`;
    yield { code: countyCode, name: `县区${c + 1}`, level: "county", parentCode: cityCode };
    for (let t = 0; t < shape.townsPerCounty; t++) {
      const townCode = `${countyCode}${String(t + 1).padStart(3, "0")}`;
      towns.push(townCode);
      yield { code: townCode, name: `县区${c + 1}镇${t + 1}`, level: "town", parentCode: countyCode };
    }
  }
  const villages: string[] = [];
  for (const [t, townCode] of towns.entries()) {
    const n = share(shape.villages, towns.length, t);
    for (let v = 0; v < n; v++) {
      const code = `${townCode}${String(v + 1).padStart(3, "0")}`;
      villages.push(code);
      yield { code, name: `村${code.slice(-6)}`, level: "village", parentCode: townCode };
    }
  }
  const level2: string[] = [];
  for (const [v, villageCode] of villages.entries()) {
    const n = share(shape.level2Grids, villages.length, v);
    for (let g = 0; g < n; g++) {
      const code = `${villageCode}${String(g + 1).padStart(3, "0")}`;
      level2.push(code);
      yield { code, name: `网格${g + 1}`, level: "grid", parentCode: villageCode };
    }
  }
  for (let g = 0; g < level2.length; g++) {
    const n = share(shape.level3Grids, level2.length, g);
    for (let s = 0; s < n; s++) {
      yield {
        code: `${level2[g]}${String(s + 1).padStart(3, "0")}`,
        name: `小组${s + 1}`,
        level: "grid",
        parentCode: level2[g]!,
      };
    }
  }
}
