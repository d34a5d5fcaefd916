/**
 * A local webhook receiver for trying grid321's outgoing webhooks: listens on 127.0.0.1 (port from argv or
 * 9999), verifies `x-grid321-signature` with the secret in WEBHOOK_SECRET, and prints every delivery.
 *
 *   WEBHOOK_SECRET=whsec_… npx tsx scripts/webhooks/receiver.ts 9999
 */
import { createServer } from "node:http";
import { verifyWebhookSignature } from "../../src/domain/webhook-signature";

const port = Number(process.argv[2] ?? 9999);
const secret = process.env.WEBHOOK_SECRET ?? "";

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const header = String(req.headers["x-grid321-signature"] ?? "");
    const valid =
      secret !== "" && (await verifyWebhookSignature(secret, body, header, Math.floor(Date.now() / 1000)));
    console.log(
      JSON.stringify({
        at: new Date().toISOString(),
        event: req.headers["x-grid321-event"],
        valid,
        body: JSON.parse(body || "null"),
      }),
    );
    res.writeHead(valid ? 204 : 401).end();
  });
}).listen(port, "127.0.0.1", () =>
  console.log(`webhook receiver on http://127.0.0.1:${port}/ (secret ${secret ? "set" : "MISSING"})`),
);
