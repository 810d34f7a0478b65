import type { Queryable } from "../queue/queue";
import { generateKey } from "./auth";
import { JOB_TYPES, type JobType } from "./types";

/** Operator actions on API clients and their keys. Secrets are returned once, by the call that creates them. */

export class AdminError extends Error {
  override name = "AdminError";
}

export const CLIENT_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export interface ClientInfo {
  readonly id: string;
  readonly name: string;
  readonly scopes: JobType[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly keys: Array<{ readonly keyId: string; readonly createdAt: Date; readonly expiresAt: Date | null; readonly revokedAt: Date | null }>;
}

export interface NewKey {
  readonly clientId: string;
  readonly clientName: string;
  readonly keyId: string;
  /** The credential. Not kept anywhere: shown once. */
  readonly key: string;
  readonly expiresAt: Date | null;
}

function checkScopes(scopes: readonly string[]): JobType[] {
  const unknown = scopes.filter((s) => !(JOB_TYPES as readonly string[]).includes(s));
  if (unknown.length) throw new AdminError(`unknown job type(s) ${unknown.join(", ")}: expected some of ${JOB_TYPES.join(", ")}`);
  if (scopes.length === 0) throw new AdminError(`a client needs at least one scope (${JOB_TYPES.join(", ")})`);
  return [...new Set(scopes)] as JobType[];
}

async function clientByName(db: Queryable, name: string): Promise<{ id: string; revoked: boolean }> {
  const { rows } = await db.query<{ id: string; revoked: boolean }>("SELECT id, revoked_at IS NOT NULL AS revoked FROM api_clients WHERE name = $1", [name]);
  if (!rows[0]) throw new AdminError(`no API client named ${name}`);
  return rows[0];
}

export async function issueKey(db: Queryable, clientName: string, opts: { expiresAt?: Date } = {}): Promise<NewKey> {
  const client = await clientByName(db, clientName);
  if (client.revoked) throw new AdminError(`API client ${clientName} is revoked; create a new client`);
  const k = generateKey();
  await db.query("INSERT INTO api_keys (id, client_id, secret_sha256, expires_at) VALUES ($1, $2, $3, $4)", [k.keyId, client.id, k.secretSha256, opts.expiresAt ?? null]);
  return { clientId: client.id, clientName, keyId: k.keyId, key: k.key, expiresAt: opts.expiresAt ?? null };
}

export async function createClient(db: Queryable, opts: { name: string; scopes: readonly string[]; expiresAt?: Date }): Promise<NewKey> {
  if (!CLIENT_NAME.test(opts.name)) throw new AdminError(`client name must match ${CLIENT_NAME.source}, got "${opts.name}"`);
  const scopes = checkScopes(opts.scopes);
  const { rowCount } = await db.query(
    "INSERT INTO api_clients (name, scopes, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    [opts.name, scopes, opts.expiresAt ?? null],
  );
  if (!rowCount) throw new AdminError(`an API client named ${opts.name} already exists`);
  return issueKey(db, opts.name, { expiresAt: opts.expiresAt });
}

/**
 * Rotation without downtime: a new key now, and the old one kept valid for `overlapSeconds` (not beyond its own
 * expiry) so the client can switch over; revoke the old key sooner if it leaked.
 */
export async function rotateKey(db: Queryable, clientName: string, oldKeyId: string, opts: { overlapSeconds: number; expiresAt?: Date }): Promise<NewKey & { oldKeyExpiresAt: Date }> {
  const client = await clientByName(db, clientName);
  const { rows } = await db.query<{ expires_at: Date }>(
    `UPDATE api_keys SET expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => $3))
      WHERE id = $1 AND client_id = $2 AND revoked_at IS NULL
      RETURNING expires_at`,
    [oldKeyId, client.id, opts.overlapSeconds],
  );
  if (!rows[0]) throw new AdminError(`API client ${clientName} has no unrevoked key ${oldKeyId}`);
  const fresh = await issueKey(db, clientName, { expiresAt: opts.expiresAt });
  return { ...fresh, oldKeyExpiresAt: rows[0].expires_at };
}

/** Takes effect on the next request: the API reads keys on every request. */
export async function revokeKey(db: Queryable, keyId: string): Promise<void> {
  const { rowCount } = await db.query("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", [keyId]);
  if (!rowCount) throw new AdminError(`no API key ${keyId}`);
}

/** Revokes the client and with it every key it holds. */
export async function revokeClient(db: Queryable, clientName: string): Promise<void> {
  const { rowCount } = await db.query("UPDATE api_clients SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1", [clientName]);
  if (!rowCount) throw new AdminError(`no API client named ${clientName}`);
}

export async function listClients(db: Queryable): Promise<ClientInfo[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    scopes: JobType[];
    created_at: Date;
    expires_at: Date | null;
    revoked_at: Date | null;
    keys: Array<{ id: string; created_at: string; expires_at: string | null; revoked_at: string | null }>;
  }>(
    `SELECT c.id, c.name, c.scopes, c.created_at, c.expires_at, c.revoked_at,
            coalesce(json_agg(json_build_object('id', k.id, 'created_at', k.created_at, 'expires_at', k.expires_at, 'revoked_at', k.revoked_at)
                     ORDER BY k.created_at) FILTER (WHERE k.id IS NOT NULL), '[]') AS keys
       FROM api_clients c LEFT JOIN api_keys k ON k.client_id = c.id
      GROUP BY c.id ORDER BY c.name`,
  );
  const date = (s: string | null) => (s === null ? null : new Date(s));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scopes: r.scopes,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    keys: r.keys.map((k) => ({ keyId: k.id, createdAt: new Date(k.created_at), expiresAt: date(k.expires_at), revokedAt: date(k.revoked_at) })),
  }));
}
