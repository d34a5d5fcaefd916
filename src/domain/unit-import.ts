import { checkUnitCode, childPosition, type UnitLevel, type UnitPosition, unitPath } from "./units";

/** One row of a bulk unit import. */
export interface UnitImportRow {
  code: string;
  name: string;
  level: UnitLevel;
  /** The parent's code: an existing unit, or another row of the same import. */
  parentCode: string;
}

/** A unit that already exists, as the import sees it. */
export interface ExistingUnit extends UnitPosition {
  id: string;
  code: string;
  path: string;
}

export interface PlannedUnit extends UnitPosition {
  id: string;
  code: string;
  name: string;
  parentId: string;
  path: string;
  depth: number;
}

export type ImportPlan =
  | { ok: true; units: PlannedUnit[] }
  | { ok: false; errors: Array<{ index: number; path: string; message: string }> };

/**
 * Validates a whole import and plans the inserts, parents before children. Every bad row is reported with
 * its index; nothing is planned unless every row is good. `existing` holds the units already stored whose
 * codes the rows mention; `inScope` tells whether an existing parent is inside the importer's subtree.
 */
export function planUnitImport(
  rows: UnitImportRow[],
  existing: Map<string, ExistingUnit>,
  inScope: (path: string) => boolean,
  newId: () => string = () => crypto.randomUUID(),
): ImportPlan {
  const errors: Array<{ index: number; path: string; message: string }> = [];
  const byCode = new Map<string, number>();
  rows.forEach((row, index) => {
    if (byCode.has(row.code)) {
      errors.push({ index, path: `rows.${index}.code`, message: `duplicate of row ${byCode.get(row.code)}` });
    } else {
      byCode.set(row.code, index);
    }
    if (existing.has(row.code))
      errors.push({ index, path: `rows.${index}.code`, message: "a unit with this code exists" });
  });

  const planned = new Map<number, PlannedUnit | null>();
  const visiting = new Set<number>();
  const order: PlannedUnit[] = [];

  const resolve = (index: number): PlannedUnit | null => {
    if (planned.has(index)) return planned.get(index)!;
    const row = rows[index]!;
    if (visiting.has(index)) {
      errors.push({
        index,
        path: `rows.${index}.parentCode`,
        message: "the parent chain loops back to this row",
      });
      planned.set(index, null);
      return null;
    }
    visiting.add(index);
    let parent: (UnitPosition & { id: string; code: string; path: string; depth: number }) | null = null;
    const parentRow = byCode.get(row.parentCode);
    const parentExisting = existing.get(row.parentCode);
    if (parentRow !== undefined && parentRow !== index) {
      parent = resolve(parentRow);
      if (!parent) {
        errors.push({
          index,
          path: `rows.${index}.parentCode`,
          message: `parent row ${parentRow} is invalid`,
        });
      }
    } else if (parentExisting) {
      if (!inScope(parentExisting.path)) {
        errors.push({
          index,
          path: `rows.${index}.parentCode`,
          message: "no such parent unit in your scope",
        });
      } else {
        parent = { ...parentExisting, depth: parentExisting.path.split("/").filter(Boolean).length - 1 };
      }
    } else {
      errors.push({ index, path: `rows.${index}.parentCode`, message: "no such parent unit" });
    }
    visiting.delete(index);
    let result: PlannedUnit | null = null;
    if (parent) {
      const position = childPosition(parent, row.level);
      if (typeof position === "string") {
        errors.push({ index, path: `rows.${index}.level`, message: position });
      } else {
        const codeError = checkUnitCode(row.code, position, parent.code);
        if (codeError) {
          errors.push({ index, path: `rows.${index}.code`, message: codeError });
        } else {
          const id = newId();
          result = {
            id,
            code: row.code,
            name: row.name,
            parentId: parent.id,
            path: unitPath(parent.path, id),
            depth: parent.depth + 1,
            ...position,
          };
          order.push(result);
        }
      }
    }
    planned.set(index, result);
    return result;
  };

  rows.forEach((_, index) => {
    resolve(index);
  });
  if (errors.length) {
    const seen = new Set<string>();
    const unique = errors.filter((e) => {
      const key = `${e.path}|${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    unique.sort((a, b) => a.index - b.index);
    return { ok: false, errors: unique };
  }
  return { ok: true, units: order };
}
