import { sha256Hex } from "../../platform/crypto/tokens";
import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { residentOf } from "../../platform/http/resident-auth";
import * as deliberation from "../../services/deliberation";
import * as attachments from "../../services/deliberation-attachments";
import type * as routes from "./deliberation.routes";

/** POST /v1/units/{id}/deliberation/members */
export const registerMember: AppRouteHandler<typeof routes.registerMember> = async (c) =>
  c.json(
    await deliberation.registerMember(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** GET /v1/units/{id}/deliberation/members */
export const listMembers: AppRouteHandler<typeof routes.listMembers> = async (c) => {
  const items = await deliberation.membersOf(
    c.env,
    callerOf(c),
    c.req.valid("param").id,
    c.req.valid("query"),
  );
  return c.json({ items }, 200);
};

/** GET /v1/units/{id}/deliberation/eligible */
export const eligible: AppRouteHandler<typeof routes.eligible> = async (c) =>
  c.json(
    await deliberation.eligibleOf(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("query").on),
    200,
  );

/** GET /v1/units/{id}/deliberation/power-list */
export const getPowerList: AppRouteHandler<typeof routes.getPowerList> = async (c) =>
  c.json(await deliberation.powerListOf(c.env, callerOf(c), c.req.valid("param").id), 200);

/** PUT /v1/units/{id}/deliberation/power-list */
export const setPowerList: AppRouteHandler<typeof routes.setPowerList> = async (c) =>
  c.json(
    await deliberation.setPowerList(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    200,
  );

/** POST /v1/units/{id}/deliberation/sessions */
export const createSession: AppRouteHandler<typeof routes.createSession> = async (c) =>
  c.json(
    await deliberation.createSession(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** GET /v1/deliberation/sessions/{id} */
export const getSession: AppRouteHandler<typeof routes.getSession> = async (c) =>
  c.json(await deliberation.getSession(c.env, callerOf(c), c.req.valid("param").id), 200);

/** POST /v1/deliberation/matters */
export const raiseMatter: AppRouteHandler<typeof routes.raiseMatter> = async (c) =>
  c.json(await deliberation.raiseMatter(c.env, callerOf(c), c.req.valid("json")), 201);

/** GET /v1/deliberation/matters/{id} */
export const getMatter: AppRouteHandler<typeof routes.getMatter> = async (c) =>
  c.json(await deliberation.getMatter(c.env, callerOf(c), c.req.valid("param").id), 200);

/** POST /v1/deliberation/matters/{id}/triage */
export const triageMatter: AppRouteHandler<typeof routes.triageMatter> = async (c) =>
  c.json(
    await deliberation.triageMatter(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    200,
  );

/** GET /v1/deliberation/items/{id} */
export const getItem: AppRouteHandler<typeof routes.getItem> = async (c) =>
  c.json(await deliberation.getItem(c.env, callerOf(c), c.req.valid("param").id), 200);

/** POST /v1/deliberation/items/{id}/steps */
export const recordStep: AppRouteHandler<typeof routes.recordStep> = async (c) =>
  c.json(
    await deliberation.recordStep(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** POST /v1/deliberation/items/{id}/resolution-notice */
export const publishResolution: AppRouteHandler<typeof routes.publishResolution> = async (c) =>
  c.json(
    await deliberation.publishResolution(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** POST /v1/deliberation/notices/{id}/objections */
export const raiseObjection: AppRouteHandler<typeof routes.raiseObjection> = async (c) =>
  c.json(
    await deliberation.raiseObjection(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json").text),
    201,
  );

/** POST /v1/deliberation/objections/{id}/answer */
export const answerObjection: AppRouteHandler<typeof routes.answerObjection> = async (c) =>
  c.json(
    await deliberation.answerObjection(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    200,
  );

/** POST /v1/deliberation/items/{id}/decision */
export const decideItem: AppRouteHandler<typeof routes.decideItem> = async (c) =>
  c.json(await deliberation.decideItem(c.env, callerOf(c), c.req.valid("param").id), 200);

/** POST /v1/deliberation/items/{id}/tasks */
export const addTask: AppRouteHandler<typeof routes.addTask> = async (c) =>
  c.json(await deliberation.addTask(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")), 201);

/** POST /v1/deliberation/tasks/{id}/progress */
export const reportProgress: AppRouteHandler<typeof routes.reportProgress> = async (c) =>
  c.json(
    await deliberation.reportProgress(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    200,
  );

/** POST /v1/deliberation/items/{id}/result */
export const publishResult: AppRouteHandler<typeof routes.publishResult> = async (c) =>
  c.json(
    await deliberation.publishResult(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** POST /v1/deliberation/items/{id}/feedback */
export const giveFeedback: AppRouteHandler<typeof routes.giveFeedback> = async (c) =>
  c.json(
    await deliberation.giveFeedback(
      c.env,
      callerOf(c),
      c.req.valid("param").id,
      c.req.valid("json").satisfaction,
    ),
    200,
  );

/** POST /v1/deliberation/items/{id}/review-requests */
export const requireReview: AppRouteHandler<typeof routes.requireReview> = async (c) =>
  c.json(
    await deliberation.requireReview(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json").reason),
    201,
  );

/** GET /v1/units/{id}/deliberation/figures */
export const figures: AppRouteHandler<typeof routes.figures> = async (c) => {
  const { from, to } = c.req.valid("query");
  return c.json(await deliberation.figuresOf(c.env, callerOf(c), c.req.valid("param").id, from, to), 200);
};

/** GET /v1/public/units/{id}/notices: no token; a strong ETag over the body, 304 when it matches. */
export const publicBoard: AppRouteHandler<typeof routes.publicBoard> = async (c) => {
  const board = await deliberation.publicBoard(c.env, c.req.valid("param").id);
  const etag = `"${(await sha256Hex(JSON.stringify(board))).slice(0, 32)}"`;
  c.header("etag", etag);
  c.header("cache-control", "public, max-age=60");
  if (c.req.valid("header")["if-none-match"] === etag) return c.body(null, 304);
  return c.json(board, 200);
};

/** POST /v1/deliberation/sessions/{id}/attachments */
export const uploadSessionAttachment: AppRouteHandler<typeof routes.uploadSessionAttachment> = async (c) => {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const stored = await attachments.addSessionAttachment(
    c.env,
    callerOf(c),
    c.req.valid("param").id,
    c.req.valid("query").kind,
    c.req.header("content-type"),
    bytes,
  );
  c.header("location", stored.url);
  return c.json(stored, 201);
};

/** GET /v1/deliberation/attachments/{id} */
export const getSessionAttachment: AppRouteHandler<typeof routes.getSessionAttachment> = async (c) => {
  const object = await attachments.sessionAttachmentBody(c.env, callerOf(c), c.req.valid("param").id);
  return new Response(object.body, {
    status: 200,
    headers: {
      "content-type": object.httpMetadata?.contentType ?? "application/octet-stream",
      "content-length": String(object.size),
      "cache-control": "private, max-age=3600",
      "x-content-type-options": "nosniff",
      etag: object.httpEtag,
    },
  });
};

/** GET /v1/units/{id}/deliberation/sessions */
export const listSessions: AppRouteHandler<typeof routes.listSessions> = async (c) =>
  c.json(
    await attachments.listUnitSessions(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("query")),
    200,
  );

/** POST /v1/resident/matters */
export const raiseResidentMatter: AppRouteHandler<typeof routes.raiseResidentMatter> = async (c) => {
  const { summary } = c.req.valid("json");
  const view = await deliberation.raiseResidentMatter(c.env, c.get("requestId"), residentOf(c), summary);
  c.header("location", `/v1/resident/matters/${view.id}`);
  return c.json(view, 201);
};

/** GET /v1/resident/matters */
export const listResidentMatters: AppRouteHandler<typeof routes.listResidentMatters> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  return c.json(await deliberation.ownMatters(c.env, residentOf(c), limit, cursor), 200);
};

/** GET /v1/resident/matters/{id} */
export const getResidentMatter: AppRouteHandler<typeof routes.getResidentMatter> = async (c) =>
  c.json(await deliberation.ownMatter(c.env, residentOf(c), c.req.valid("param").id), 200);
