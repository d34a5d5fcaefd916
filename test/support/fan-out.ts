import { QUEUE_LIMITS } from "../../src/platform/queues/send";
import { sql, type TestUnit } from "./helpers";

/**
 * Adds `count` level-2 grids under a village in one statement (json_each), for fan-outs to many units.
 * Their codes are the village's code and four digits, so they never collide with `makeTree`'s.
 */
export async function addGrids(village: TestUnit, count: number): Promise<TestUnit[]> {
  const now = new Date().toISOString();
  const grids: TestUnit[] = Array.from({ length: count }, (_, i) => {
    const id = crypto.randomUUID();
    return {
      id,
      code: `${village.code}${String(i + 1).padStart(4, "0")}`,
      path: `${village.path}${id}/`,
      level: "grid",
      gridLevel: 2,
      parentId: village.id,
    };
  });
  await sql().execute({
    sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
          SELECT json_extract(value, '$.id'), json_extract(value, '$.code'), '第' || json_extract(value, '$.code') || '网格',
            json_extract(value, '$.parentId'), json_extract(value, '$.path'), 'grid', 2, 4, 1, ?, ?
          FROM json_each(?)`,
    args: [now, now, JSON.stringify(grids)],
  });
  return grids;
}

/** A queue double that records every `sendBatch` call, with each batch's size in UTF-8 bytes. */
export function recordingQueue<Body>() {
  const batches: Array<{ bodies: Body[]; bytes: number }> = [];
  const encoder = new TextEncoder();
  const queue: Queue<Body> = {
    async send() {
      throw new Error("producers send in batches");
    },
    async sendBatch(messages) {
      const bodies = [...messages].map((m) => m.body);
      const bytes = bodies.reduce((n, b) => n + encoder.encode(JSON.stringify(b)).byteLength, 0);
      if (bodies.length > QUEUE_LIMITS.batchMessages || bytes > QUEUE_LIMITS.batchBytes) {
        throw new Error(`sendBatch over the limits: ${bodies.length} messages, ${bytes} bytes`);
      }
      batches.push({ bodies, bytes });
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async metrics() {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  };
  return { queue, batches, sent: () => batches.flatMap((b) => b.bodies) };
}

/** Chinese text of `chars` characters (3 UTF-8 bytes each), for finding byte limits that English hides. */
export function chineseText(chars: number): string {
  const phrase = "请各网格员排查辖区内地质灾害隐患点并及时上报处置情况";
  return phrase.repeat(Math.ceil(chars / phrase.length)).slice(0, chars);
}
