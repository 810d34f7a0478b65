import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Queryable } from "../queue/queue";
import { JOB_TYPES, type JobType } from "./types";

/**
 * API keys: `pk_<id>.<secret>`, sent as `Authorization: Bearer <key>`. The id (96 random bits, hex) names the key
 * and is not secret: logs and the edge's per-key rate limit use it. The secret is 256 random bits (base64url) of
 * which only the SHA-256 is stored. Every request looks its key up (one primary-key read): nothing is cached, so a
 * revocation or an expiry holds from the next request on.
 */
export const KEY_PREFIX = "pk_";
export const KEY_PATTERN = /^pk_([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/;
/** What the edge and the worker both expect; the edge derives the key id with the same shape. */
export const BEARER_PATTERN = /^Bearer +(pk_[0-9a-f]{24}\.[A-Za-z0-9_-]{43}) *$/i;
export const AUTH_REALM = "pitchey";

export interface IssuedKey {
  readonly keyId: string;
  /** The whole credential; shown once, never stored. */
  readonly key: string;
  readonly secretSha256: Buffer;
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

export function generateKey(): IssuedKey {
  const keyId = randomBytes(12).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { keyId, key: `${KEY_PREFIX}${keyId}.${secret}`, secretSha256: hashSecret(secret) };
}

export type ParsedAuthorization =
  | { readonly kind: "missing" }
  | { readonly kind: "malformed" }
  | { readonly kind: "key"; readonly keyId: string; readonly secret: string };

/** Reads the `Authorization` header; never throws, whatever the client sent. */
export function parseAuthorization(header: string | string[] | undefined): ParsedAuthorization {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return { kind: "missing" };
  const bearer = BEARER_PATTERN.exec(value);
  const key = bearer ? KEY_PATTERN.exec(bearer[1]!) : null;
  if (!key) return { kind: "malformed" };
  return { kind: "key", keyId: key[1]!, secret: key[2]! };
}

/** Who is calling: what handlers and logs may know of a verified key (never the secret). */
export interface Caller {
  readonly clientId: string;
  readonly clientName: string;
  readonly keyId: string;
  readonly scopes: readonly JobType[];
}

/** A refusal the API answers as is: 401 with a Bearer challenge, or 403 for a type outside the key's scopes. */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly status: 401 | 403,
    message: string,
    /** RFC 6750 error code for the challenge. */
    readonly code?: "invalid_request" | "invalid_token" | "insufficient_scope",
  ) {
    super(message);
  }

  get challenge(): string {
    const parts = [`realm="${AUTH_REALM}"`];
    if (this.code) parts.push(`error="${this.code}"`, `error_description="${this.message.replace(/["\\]/g, "")}"`);
    return `Bearer ${parts.join(", ")}`;
  }
}

export const MISSING_MESSAGE = "Authentication required: send Authorization: Bearer <API key>";
const MALFORMED_MESSAGE = "Malformed Authorization header: expected Bearer pk_<key id>.<secret>";
const INVALID_MESSAGE = "Invalid API key";

interface KeyRow {
  secret_sha256: Buffer;
  key_expired: boolean;
  key_revoked: boolean;
  client_id: string;
  client_name: string;
  scopes: string[];
  client_expired: boolean;
  client_revoked: boolean;
}

// Compared against when the key id is unknown, so that path does the same work as a wrong secret.
const UNKNOWN_KEY_HASH = hashSecret("no such key");

/** Verifies API keys against the database on every call. */
export class ApiKeyAuthenticator {
  constructor(private readonly db: Queryable) {}

  /** The caller behind `header`, or an {@link AuthError}. The database's clock decides expiry. */
  async authenticate(header: string | string[] | undefined): Promise<Caller> {
    const parsed = parseAuthorization(header);
    if (parsed.kind === "missing") throw new AuthError(401, MISSING_MESSAGE);
    if (parsed.kind === "malformed") throw new AuthError(401, MALFORMED_MESSAGE, "invalid_request");
    const { rows } = await this.db.query<KeyRow>(
      `SELECT k.secret_sha256,
              coalesce(k.expires_at <= now(), false) AS key_expired, k.revoked_at IS NOT NULL AS key_revoked,
              c.id AS client_id, c.name AS client_name, c.scopes,
              coalesce(c.expires_at <= now(), false) AS client_expired, c.revoked_at IS NOT NULL AS client_revoked
         FROM api_keys k JOIN api_clients c ON c.id = k.client_id
        WHERE k.id = $1`,
      [parsed.keyId],
    );
    const row = rows[0];
    const matches = timingSafeEqual(hashSecret(parsed.secret), row?.secret_sha256 ?? UNKNOWN_KEY_HASH);
    // Only a caller holding the secret learns whether a key is revoked or expired.
    if (!row || !matches) throw new AuthError(401, INVALID_MESSAGE, "invalid_token");
    if (row.client_revoked) throw new AuthError(401, "API client revoked", "invalid_token");
    if (row.key_revoked) throw new AuthError(401, "API key revoked", "invalid_token");
    if (row.client_expired) throw new AuthError(401, "API client expired", "invalid_token");
    if (row.key_expired) throw new AuthError(401, "API key expired", "invalid_token");
    return {
      clientId: row.client_id,
      clientName: row.client_name,
      keyId: parsed.keyId,
      scopes: row.scopes.filter((s): s is JobType => (JOB_TYPES as readonly string[]).includes(s)),
    };
  }
}

/** A job type the caller may not submit: 403, naming what it may. */
export function requireScope(caller: Caller, type: JobType): void {
  if (caller.scopes.includes(type)) return;
  const allowed = caller.scopes.length ? caller.scopes.join(", ") : "none";
  throw new AuthError(403, `API client ${caller.clientName} may not submit ${type} jobs (allowed: ${allowed})`, "insufficient_scope");
}
