import type { Role } from "./domain/roles";
import type { AuthMethod } from "./domain/second-factor";
import type { ResidentPrincipal } from "./platform/crypto/resident-tokens";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Turso auth token (secret); empty for the local sqld. */
      LIBSQL_AUTH_TOKEN?: string;
      /** The platform's ES256 signing key as a private JWK with `kid` (secret). */
      JWT_PRIVATE_JWK: string;
      /** Public JWKs of retired signing keys still accepted during rotation, as a JSON array (optional). */
      JWT_PREVIOUS_PUBLIC_JWKS?: string;
      /** 256-bit base64 key for encrypting and HMAC-indexing personal data (secret). */
      PII_KEY: string;
      /**
       * 256-bit base64 key of the audit log's HMACs (secret). Only Workers hold it, never the database, so
       * someone with database access can neither alter an audit row nor re-link the chain unnoticed.
       */
      AUDIT_KEY: string;
      /** Queue of time-limit policy changes to push into the GridDesks below a unit (src/queues/desk-rules.ts). */
      DESK_RULES: Queue;
      /** HTTPS endpoint of the SMS provider that sends residents' sign-in codes (unset: the local sink, outside production). */
      RESIDENT_CODE_SENDER_URL?: string;
      /** Bearer credential for `RESIDENT_CODE_SENDER_URL` (secret). */
      RESIDENT_CODE_SENDER_TOKEN?: string;
      /** Emergency command: one roster and check-in object per (event, grid), one command post per event. */
      EMERGENCY_GRID: DurableObjectNamespace<import("./durable/emergency-grid/emergency-grid").EmergencyGrid>;
      EMERGENCY_COMMAND: DurableObjectNamespace<
        import("./durable/emergency-command/emergency-command").EmergencyCommand
      >;
      /** Roster jobs of emergency events (src/queues/emergency-rosters.ts) and their dead letters. */
      EMERGENCY_ROSTERS: Queue;
      EMERGENCY_ROSTERS_DLQ: Queue;
    }
  }
}

/** Who is calling, from a verified access token. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  unitId: string;
  /** Materialized path of the user's unit; the user's scope is every object whose path starts with it. */
  unitPath: string;
  unitLevel: string;
  /** How the user authenticated (RFC 8176 `amr`): `["pwd"]`, or `["pwd", "otp"]` after a second factor. */
  amr?: AuthMethod[];
  /** The user's session epoch when the token was minted; a raised epoch revokes it (0 when absent). */
  sessionEpoch?: number;
}

/** Hono typing shared by every route. */
export interface AppEnv {
  Bindings: Cloudflare.Env;
  Variables: {
    requestId: string;
    principal: Principal;
    /** A resident calling through their own channel (`/v1/resident/…`), from a resident token. */
    resident: ResidentPrincipal;
  };
}
