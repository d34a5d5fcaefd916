import { DurableObject } from "cloudflare:workers";

/**
 * The per-grid case desk: the only writer of the cases owned by one grid or unit.
 * Its case lifecycle is built on `src/domain/case-lifecycle.ts`.
 */
export class GridDesk extends DurableObject<Cloudflare.Env> {}
