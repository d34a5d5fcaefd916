import type { DeclaredHeader } from "./openapi-document";

/**
 * Contract details of operations whose route files are being reworked, applied when the document is built
 * (`finishDocument`). Temporary: each entry moves into its route's `createRoute` (`operationId`, and
 * `headers: responseHeaders(...)` on the response) and is deleted here. An `operationId` set in the route
 * wins over this map.
 */
export const PENDING_OPERATION_IDS: Record<string, string> = {
  "POST /v1/cases": "reportCase",
  "GET /v1/cases": "listCases",
  "POST /v1/cases/sync": "syncCases",
  "GET /v1/cases/{id}": "getCase",
  "GET /v1/grids/{id}/cases": "listGridCases",
  "POST /v1/cases/{id}/accept": "acceptCase",
  "POST /v1/cases/{id}/reject": "rejectCase",
  "POST /v1/cases/{id}/merge": "mergeCase",
  "POST /v1/cases/{id}/dispatch": "dispatchCase",
  "POST /v1/cases/{id}/start": "startCase",
  "POST /v1/cases/{id}/resolve": "resolveCase",
  "POST /v1/cases/{id}/return-visit": "recordReturnVisit",
  "POST /v1/cases/{id}/close": "closeCase",
  "POST /v1/cases/{id}/reopen": "reopenCase",
  "POST /v1/cases/{id}/escalate": "escalateCase",
  "POST /v1/cases/{id}/send-down": "sendCaseDown",
  "POST /v1/cases/{id}/supervise": "superviseCase",
  "POST /v1/cases/{id}/urge": "urgeCase",
  "POST /v1/cases/{id}/attachments": "uploadCaseAttachment",
  "GET /v1/attachments/{id}": "getAttachment",
  "GET /v1/audit": "listAudit",
  "GET /v1/audit/verify": "verifyAuditChain",
  "POST /v1/liaison-stations": "createLiaisonStation",
  "GET /v1/liaison-stations/{id}": "getLiaisonStation",
  "GET /v1/units/{id}/liaison-stations": "listUnitLiaisonStations",
  "POST /v1/liaison-stations/{id}/deputies": "attachStationDeputies",
  "POST /v1/liaison-stations/{id}/activities": "scheduleStationActivity",
  "GET /v1/liaison-stations/{id}/activities": "listStationActivities",
  "PATCH /v1/liaison-stations/{id}/activities/{activityId}": "recordStationActivity",
  "GET /v1/liaison-stations/{id}/activities/{activityId}": "getStationActivity",
  "POST /v1/liaison-stations/{id}/activities/{activityId}/matters": "raiseStationMatter",
  "GET /v1/ops/projection-lag": "listProjectionLag",
};

const CASE_COMMANDS = [
  "accept",
  "reject",
  "merge",
  "dispatch",
  "start",
  "resolve",
  "return-visit",
  "close",
  "reopen",
  "escalate",
  "send-down",
  "supervise",
  "urge",
];

/** Response headers those operations set, by status (temporary like the ids above). */
export const PENDING_RESPONSE_HEADERS: Record<string, Record<string, DeclaredHeader[]>> = {
  "POST /v1/cases": { 201: ["ETag", "Location"], 200: ["ETag", "Location"] },
  "GET /v1/cases/{id}": { 200: ["ETag"] },
  ...Object.fromEntries(CASE_COMMANDS.map((c) => [`POST /v1/cases/{id}/${c}`, { 200: ["ETag"] }])),
  "POST /v1/cases/{id}/attachments": { 201: ["ETag", "Location"] },
  "GET /v1/attachments/{id}": { 200: ["ETag"] },
  "POST /v1/liaison-stations/{id}/activities/{activityId}/matters": {
    201: ["Location"],
    200: ["Location"],
  },
};
