import { describe, expect, it } from "vitest";
import {
  signWebhook,
  verifyWebhookSignature,
  webhookKindForCaseEvent,
} from "../../src/domain/webhook-signature";
import { checkWebhookUrl } from "../../src/domain/webhook-url";

describe("checkWebhookUrl", () => {
  it("accepts https to public hosts and public addresses", () => {
    for (const url of [
      "https://hooks.example.com/grid321",
      "https://api.example.org:8443/in?x=1",
      "https://8.8.8.8/hook",
      "https://[2606:4700:4700::1111]/hook",
    ]) {
      expect(checkWebhookUrl(url, "production")).toMatchObject({ ok: true });
    }
  });

  it("refuses anything but https in production, including http to loopback", () => {
    for (const url of [
      "http://hooks.example.com/",
      "ftp://example.com/",
      "http://127.0.0.1:9000/",
      "file:///etc/passwd",
      "not a url",
    ]) {
      expect(checkWebhookUrl(url, "production").ok).toBe(false);
    }
  });

  it("refuses private, loopback, link-local, CGNAT, reserved and multicast IPv4 in any notation", () => {
    for (const host of [
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "127.0.0.1",
      "127.1",
      "0x7f000001",
      "2130706433",
      "0.0.0.0",
      "169.254.169.254",
      "100.64.0.1",
      "100.127.255.254",
      "198.18.0.1",
      "224.0.0.1",
      "255.255.255.255",
    ]) {
      expect(checkWebhookUrl(`https://${host}/hook`, "production"), host).toMatchObject({ ok: false });
    }
    expect(checkWebhookUrl("https://172.32.0.1/hook", "production")).toMatchObject({ ok: true });
    expect(checkWebhookUrl("https://100.128.0.1/hook", "production")).toMatchObject({ ok: true });
  });

  it("refuses IPv6 loopback, unspecified, ULA, link-local, multicast, IPv4-mapped and documentation literals", () => {
    for (const host of [
      "::1",
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "2001:db8::1",
      "64:ff9b::a00:1",
    ]) {
      expect(checkWebhookUrl(`https://[${host}]/hook`, "production"), host).toMatchObject({ ok: false });
    }
  });

  it("refuses internal host names and credentials in the URL", () => {
    for (const url of [
      "https://localhost/hook",
      "https://LOCALHOST./hook",
      "https://api.localhost/hook",
      "https://printer.local/",
      "https://db.internal/",
      "https://intranet/",
      "https://user:pass@hooks.example.com/",
    ]) {
      expect(checkWebhookUrl(url, "production"), url).toMatchObject({ ok: false });
    }
  });

  it("allows http and https to the loopback host only in development and test", () => {
    for (const env of ["development", "test"]) {
      expect(checkWebhookUrl("http://127.0.0.1:9000/hook", env)).toEqual({
        ok: true,
        url: "http://127.0.0.1:9000/hook",
      });
      expect(checkWebhookUrl("http://localhost:9000/hook", env)).toMatchObject({ ok: true });
      expect(checkWebhookUrl("http://10.0.0.1/hook", env)).toMatchObject({ ok: false });
      expect(checkWebhookUrl("http://hooks.example.com/", env)).toMatchObject({ ok: false });
    }
  });
});

describe("webhook signatures", () => {
  const body = '{"id":"e1","kind":"case.escalated"}';

  it("signs t.body with HMAC-SHA-256 as t=<unix>,v1=<hex>", async () => {
    const header = await signWebhook("whsec_test", body, 1767225600);
    expect(header).toMatch(/^t=1767225600,v1=[0-9a-f]{64}$/);
    // Known answer: HMAC-SHA256("whsec_test", "1767225600." + body), computed independently with WebCrypto.
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("whsec_test"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`1767225600.${body}`)),
    );
    expect(header.split("v1=")[1]).toBe([...mac].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("verifies as a receiver would: right secret and body within tolerance only", async () => {
    const header = await signWebhook("whsec_test", body, 1000);
    expect(await verifyWebhookSignature("whsec_test", body, header, 1100)).toBe(true);
    expect(await verifyWebhookSignature("whsec_other", body, header, 1100)).toBe(false);
    expect(await verifyWebhookSignature("whsec_test", `${body} `, header, 1100)).toBe(false);
    expect(await verifyWebhookSignature("whsec_test", body, header, 1400)).toBe(false);
    expect(await verifyWebhookSignature("whsec_test", body, "t=1000,v1=00", 1000)).toBe(false);
  });

  it("offers case events as case.<type> kinds", () => {
    expect(webhookKindForCaseEvent("escalated")).toBe("case.escalated");
    expect(webhookKindForCaseEvent("attachment_added")).toBeNull();
  });
});
