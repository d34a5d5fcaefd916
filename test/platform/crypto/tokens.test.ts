import { env } from "cloudflare:workers";
import { base64url, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TYPE, verifyAccessToken } from "../../../src/platform/crypto/tokens";
import { call, makeTree, makeUser, type TestUser } from "../../support/helpers";

let user: TestUser;
let signingKey: CryptoKey;
let kid: string;

beforeAll(async () => {
  const tree = await makeTree();
  user = await makeUser("admin", tree.town);
  const jwk = JSON.parse(env.JWT_PRIVATE_JWK) as JWK;
  kid = jwk.kid!;
  signingKey = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    sub: user.id,
    role: user.role,
    unit: user.unit.id,
    path: user.unit.path,
    lvl: user.unit.level,
    name: user.username,
    iss: env.JWT_ISSUER,
    aud: env.JWT_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 600,
    ...overrides,
  };
}

/** Signs `payload` as ES256 with the platform key unless another header or key is given. */
function sign(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  key: CryptoKey | Uint8Array = signingKey,
) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", kid, typ: ACCESS_TOKEN_TYPE, ...header } as never)
    .sign(key);
}

function encodePart(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

async function expectRefused(token: string) {
  const res = await call("/v1/me", { token });
  expect(res).toBeProblem(401);
  expect(res.body.type).toMatch(/\/unauthorized$/);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  // The same verdict straight from the verifier, so the route cannot be letting it through another way.
  await expect(verifyAccessToken(env, token)).rejects.toThrow();
}

describe("access-token verification", () => {
  it("accepts a well-formed ES256 token of the platform (control)", async () => {
    const token = await sign(claims());
    const res = await call("/v1/me", { token });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
    const principal = await verifyAccessToken(env, token);
    expect(principal).toEqual({
      userId: user.id,
      role: "admin",
      unitId: user.unit.id,
      unitPath: user.unit.path,
      unitLevel: "town",
      username: user.username,
      // A token minted without these claims counts as a password-only login of session epoch 0.
      amr: ["pwd"],
      sessionEpoch: 0,
    });
  });

  it("refuses a missing or non-bearer Authorization header", async () => {
    expect(await call("/v1/me")).toBeProblem(401);
    expect(await call("/v1/me", { headers: { authorization: "Basic YWRtaW46eA==" } })).toBeProblem(401);
    expect(await call("/v1/me", { headers: { authorization: "Bearer not a token" } })).toBeProblem(401);
  });

  it("refuses HS256 signed with some secret, even with the right kid", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    await expectRefused(await sign(claims(), { alg: "HS256" }, secret));
  });

  it("refuses an unsigned token (alg none)", async () => {
    const token = `${encodePart({ alg: "none", typ: ACCESS_TOKEN_TYPE, kid })}.${encodePart(claims())}.`;
    await expectRefused(token);
  });

  it("refuses a wrong issuer", async () => {
    await expectRefused(await sign(claims({ iss: "https://evil.example" })));
  });

  it("refuses a wrong audience", async () => {
    await expectRefused(await sign(claims({ aud: "someone-else" })));
  });

  it("refuses an expired token", async () => {
    const past = nowSeconds() - 3600;
    await expectRefused(await sign(claims({ iat: past, nbf: past, exp: past + 900 })));
  });

  it("refuses a token not yet valid (nbf in the future)", async () => {
    await expectRefused(await sign(claims({ nbf: nowSeconds() + 600, exp: nowSeconds() + 1200 })));
  });

  it("refuses a token of another type (typ JWT instead of at+jwt)", async () => {
    await expectRefused(await sign(claims(), { typ: "JWT" }));
  });

  it("refuses a token without exp or nbf", async () => {
    const { exp: _exp, ...noExp } = claims();
    await expectRefused(await sign(noExp));
    const { nbf: _nbf, ...noNbf } = claims();
    await expectRefused(await sign(noNbf));
  });

  it("refuses a tampered signature", async () => {
    const token = await sign(claims());
    const [h, p, s] = token.split(".");
    const middle = Math.floor(s!.length / 2);
    const flipped = s![middle] === "A" ? "B" : "A";
    await expectRefused(`${h}.${p}.${s!.slice(0, middle)}${flipped}${s!.slice(middle + 1)}`);
  });

  it("refuses a tampered payload under a genuine signature (a grid worker promoting itself)", async () => {
    const token = await sign(claims({ role: "grid_worker" }));
    const [h, , s] = token.split(".");
    await expectRefused(`${h}.${encodePart(claims({ role: "admin" }))}.${s}`);
  });

  it("refuses an unknown kid", async () => {
    await expectRefused(await sign(claims(), { kid: "no-such-key" }));
  });

  it("refuses ES256 signed by a key that is not the platform's, even under the platform's kid", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    await expectRefused(await sign(claims(), {}, privateKey as CryptoKey));
  });

  it("refuses a genuine token missing the grid321 claims or naming an unknown role", async () => {
    const { path: _path, ...noPath } = claims();
    await expectRefused(await sign(noPath));
    await expectRefused(await sign(claims({ role: "superuser" })));
  });
});
