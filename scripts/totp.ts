/**
 * Prints the current TOTP code of a demo user (from `.data/totp-secrets.json`) or of a base32 secret:
 *
 *   npm run -s totp:code -- admin
 *   npm run -s totp:code -- JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
 *
 * With `--uri` it prints the demo user's otpauth:// URI instead, to add the account to an authenticator app.
 */
import { otpauthUri } from "../src/domain/totp";
import { currentCode, demoTotpSecret } from "./lib/demo-totp";

const args = process.argv.slice(2);
const who = args.find((a) => !a.startsWith("--"));
if (!who) {
  console.error("usage: npm run -s totp:code -- <demo username | base32 secret> [--uri]");
  process.exit(2);
}
if (args.includes("--uri")) console.log(otpauthUri("grid321", who, demoTotpSecret(who)));
else console.log(await currentCode(who));
