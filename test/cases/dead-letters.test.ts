import { describe, expect, it } from "vitest";
import { makeTree, sql } from "../support/helpers";
import { deliver, escalationMessage } from "../support/queues";

async function auditFor(messageId: string) {
  const rows = await sql().execute({
    sql: "SELECT action, object_type, object_id, outcome, scope_path, detail FROM audit_log WHERE detail LIKE ?",
    args: [`%"messageId":"${messageId}"%`],
  });
  return rows.rows;
}

describe("poison escalation messages", () => {
  it("are retried on every attempt up to max_retries, then recorded from the DLQ as a failed audit row and a city alert", async () => {
    const tree = await makeTree();
    const caseId = crypto.randomUUID();
    // Names a unit the registry does not know: it can never be written.
    const poison = escalationMessage(tree, caseId, {
      targetUnitId: crypto.randomUUID(),
      fromUnitId: tree.grid.id,
    });
    const id = `poison-${crypto.randomUUID()}`;
    for (let attempts = 1; attempts <= 8; attempts++) {
      const { result } = await deliver("escalations", [poison], { attempts, ids: [id] });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages.map((r) => r.msgId)).toEqual([id]);
    }

    const { result } = await deliver("escalations-dlq", [poison], { attempts: 1, ids: [id] });
    expect(result.ackAll).toBe(true);

    const audits = await auditFor(id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "escalation.dead-letter",
      object_type: "case",
      object_id: caseId,
      outcome: "failure",
      scope_path: tree.grid.path,
    });
    const alerts = await sql().execute({
      sql: "SELECT unit_id, kind, case_id, payload FROM inbox_items WHERE dedupe_key = ?",
      args: [`alert:escalations-dlq:${id}`],
    });
    expect(alerts.rows).toHaveLength(1);
    expect(alerts.rows[0]).toMatchObject({ unit_id: tree.city.id, kind: "alert", case_id: caseId });
    expect(JSON.parse(String(alerts.rows[0]!.payload))).toMatchObject({
      alert: "escalation.dead-letter",
      messageId: id,
      wellFormed: true,
    });
  });

  it("records a dead letter once even when the DLQ batch is redelivered", async () => {
    const tree = await makeTree();
    const message = escalationMessage(tree, crypto.randomUUID());
    const id = `dlq-twice-${crypto.randomUUID()}`;
    await deliver("escalations-dlq", [message], { ids: [id] });
    await deliver("escalations-dlq", [message], { ids: [id], attempts: 2 });
    expect(await auditFor(id)).toHaveLength(1);
    const alerts = await sql().execute({
      sql: "SELECT COUNT(*) AS n FROM inbox_items WHERE unit_id = ? AND kind = 'alert'",
      args: [tree.city.id],
    });
    expect(Number(alerts.rows[0]!.n)).toBe(1);
  });

  it("still audits a malformed dead letter that names no known unit", async () => {
    const id = `garbage-${crypto.randomUUID()}`;
    const { result } = await deliver("escalations-dlq", [{ hello: "world" }], { ids: [id] });
    expect(result.ackAll).toBe(true);
    const audits = await auditFor(id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "escalation.dead-letter",
      outcome: "failure",
      object_id: null,
    });
    expect(JSON.parse(String(audits[0]!.detail))).toMatchObject({
      wellFormed: false,
      body: '{"hello":"world"}',
    });
  });
});
