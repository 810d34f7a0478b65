import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import type { Logger } from "pino";
import { parseBackupName, TIERS, tierFolder } from "./backup";
import type { BackupStore } from "./store";
import { cancelOnAbort } from "../db/cancel";
import { toolEnv } from "../runtime/tool-env";
import { RUNBOOK_SQL, type RunbookQuery } from "./verify-runbook-sql";

/** The newest backup a restore can start from. */
export interface FoundBackup {
  readonly key: string;
  readonly takenAt: Date;
  readonly bytes: number;
}

/**
 * The newest restorable backup under `<prefix>postgres/`, in any tier's folder (the hourly tier at the top holds the
 * newest; a tier's copy counts should the hourly ones be gone): named like a backup and not empty. Objects that are not
 * backups (notes, partial uploads, other folders) are ignored. On a tie the hourly tier's object wins (it sorts first).
 * `undefined` when there is none.
 */
export async function newestBackup(store: BackupStore, prefix: string): Promise<FoundBackup | undefined> {
  const dir = `${prefix}postgres/`;
  const folders = new Set(TIERS.map(tierFolder));
  let best: FoundBackup | undefined;
  for (const { key, bytes } of await store.list(dir)) {
    const rest = key.slice(dir.length);
    const cut = rest.lastIndexOf("/") + 1;
    if (!folders.has(rest.slice(0, cut))) continue;
    const takenAt = parseBackupName(rest.slice(cut));
    if (!takenAt || bytes === 0) continue;
    if (!best || takenAt.getTime() > best.takenAt.getTime()) best = { key, takenAt, bytes };
  }
  return best;
}

export class VerificationError extends Error {
  override readonly name = "VerificationError";
}

export interface VerifyOptions {
  readonly store: BackupStore;
  /** Prefix inside the store under which `postgres/` lives ("" or ending in "/"). */
  readonly prefix: string;
  /**
   * A PostgreSQL server that holds nothing of value (the Job's own sidecar): the backup is restored into a new
   * database created on it and dropped afterwards. Its maintenance database's URL.
   */
  readonly scratchUrl: string;
  /** Directory holding pg_restore; PATH when unset. */
  readonly pgBinDir?: string;
  readonly logger: Logger;
  /** Queries every restore must answer without error; the runbooks' SQL by default. */
  readonly runbookQueries?: readonly RunbookQuery[];
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
}

/** What one verification found; recorded as a row whatever the outcome. */
export interface VerificationOutcome {
  readonly success: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Where backups were looked for. */
  readonly location: string;
  readonly backup?: FoundBackup;
  /** Rows restored over every table the backup holds data for. */
  readonly restoredRows?: number;
  readonly message: string;
}

const bin = (dir: string | undefined, tool: string) => (dir ? join(dir, tool) : tool);

/** libpq takes the password from the environment so that it never shows in a process listing. */
function libpq(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const env = toolEnv();
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = "";
  return { dbname: u.toString(), env };
}

/** Runs a client tool to completion; its stderr (the last 4000 characters) names what went wrong. */
async function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env, signal });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err = (err + c).slice(-4000)));
  const lines = onLine ? createInterface({ input: child.stdout, crlfDelay: Infinity }) : undefined;
  if (lines) lines.on("line", onLine!);
  else child.stdout.resume();
  const [code] = (await once(child, "close").catch((e: Error) => {
    throw new VerificationError(`${cmd} could not be run: ${e.message}`);
  })) as [number | null];
  if (code !== 0) throw new VerificationError(`${cmd.split("/").at(-1)} failed (exit ${code}): ${err.trim() || "no message"}`);
}

/**
 * Rows per table as the archive itself holds them: `pg_restore` renders the data section as SQL, and each table's
 * `COPY … FROM stdin;` block has one line per row (text-format COPY escapes newlines). Rendering reads and
 * decompresses every block, so a truncated or corrupted archive fails here.
 */
export async function archiveRowCounts(pgBinDir: string | undefined, file: string, signal?: AbortSignal): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let table: string | undefined;
  await runTool(
    bin(pgBinDir, "pg_restore"),
    ["--data-only", "--file=-", file],
    toolEnv(),
    (line) => {
      if (table !== undefined) {
        if (line === "\\.") table = undefined;
        else counts.set(table, counts.get(table)! + 1);
        return;
      }
      const m = /^COPY (\S+) (?:\(.*\) )?FROM stdin;$/.exec(line);
      if (m) {
        table = m[1]!;
        counts.set(table, counts.get(table) ?? 0);
      }
    },
    signal,
  );
  if (table !== undefined) throw new VerificationError(`the archive's data for ${table} ends without its terminator`);
  return counts;
}

/** `public.container_jobs` → `"public"."container_jobs"`, whatever quoting pg_restore used. */
function quoteQualified(name: string): string {
  const parts = name.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [name];
  return parts.map((p) => (p.startsWith('"') ? p : `"${p.replace(/"/g, '""')}"`)).join(".");
}

/** Every problem with `container_jobs` in a restored database; empty when its constraints hold. */
export async function jobsConstraintProblems(client: Client): Promise<string[]> {
  const problems: string[] = [];
  const { rows: table } = await client.query<{ oid: number }>("SELECT 'public.container_jobs'::regclass::oid AS oid").catch(() => ({ rows: [] }));
  if (table.length === 0) return ["table container_jobs is missing"];
  const oid = table[0]!.oid;
  const { rows: constraints } = await client.query<{ name: string; type: string; validated: boolean; def: string }>(
    `SELECT conname AS name, contype AS type, convalidated AS validated, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE conrelid = $1 ORDER BY conname`,
    [oid],
  );
  if (!constraints.some((c) => c.type === "p")) problems.push("container_jobs has no primary key");
  for (const c of constraints) {
    // A constraint restored NOT VALID was never checked against the rows it guards: check them now.
    if (c.type === "c") {
      const expr = /^CHECK \((.*)\)( NOT VALID)?$/s.exec(c.def)?.[1];
      if (!expr) {
        problems.push(`cannot read constraint ${c.name}: ${c.def}`);
        continue;
      }
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM container_jobs WHERE NOT (${expr})`);
      const n = Number(rows[0]!.n);
      if (n > 0) problems.push(`${n} row(s) of container_jobs violate ${c.name} ${c.def}`);
    }
    if (!c.validated) {
      try {
        await client.query(`ALTER TABLE container_jobs VALIDATE CONSTRAINT "${c.name.replace(/"/g, '""')}"`);
      } catch (err) {
        // CHECK violations were counted above; this names foreign keys and the like.
        if (c.type !== "c") problems.push(`constraint ${c.name} does not validate: ${(err as Error).message}`);
      }
    }
  }
  const { rows: indexes } = await client.query<{ name: string }>(
    "SELECT i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indrelid = $1 AND NOT (i.indisvalid AND i.indisready)",
    [oid],
  );
  for (const i of indexes) problems.push(`index ${i.name} is not valid`);
  const { rows: nulls } = await client.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs WHERE id IS NULL OR type IS NULL OR status IS NULL");
  if (Number(nulls[0]!.n) > 0) problems.push(`${nulls[0]!.n} row(s) of container_jobs lack an id, type or status`);
  return problems;
}

/** Each query in its own rolled-back transaction: the runbooks' fixes must not change what the next one sees. */
async function runbookProblems(client: Client, queries: readonly RunbookQuery[]): Promise<string[]> {
  const problems: string[] = [];
  for (const q of queries) {
    await client.query("BEGIN");
    try {
      await client.query(q.sql);
    } catch (err) {
      problems.push(`runbook query #${q.index} of ${q.file} fails: ${(err as Error).message}`);
    } finally {
      await client.query("ROLLBACK");
    }
  }
  return problems;
}

const databaseUrl = (serverUrl: string, database: string) => {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
};

const stopReason = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason.message : String(signal.reason));

/** `signal` cancels the statement in flight; clean-up and recording go without one. */
async function withClient<T>(url: string, work: (c: Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: "restore-verification" });
  await client.connect();
  let stopListening: (() => void) | undefined;
  try {
    stopListening = await cancelOnAbort(client, url, signal);
    signal?.throwIfAborted();
    return await work(client);
  } finally {
    stopListening?.();
    await client.end().catch(() => undefined);
  }
}

/**
 * Restores the newest backup into a fresh database on the scratch server and checks it: the archive decodes,
 * pg_restore succeeds, every table holds as many rows as the archive carries, `container_jobs`' constraints hold
 * over every row, and the runbooks' queries run. Never throws for a failed check: the outcome says what failed.
 */
export async function verifyNewestBackup(opts: VerifyOptions): Promise<VerificationOutcome> {
  const clock = opts.now ?? (() => new Date());
  const startedAt = clock();
  const location = opts.store.url(`${opts.prefix}postgres/`);
  let backup: FoundBackup | undefined;
  let restoredRows: number | undefined;
  const done = (success: boolean, message: string): VerificationOutcome => ({
    success,
    startedAt,
    finishedAt: clock(),
    location,
    backup,
    restoredRows,
    // A stop shows as a killed pg_restore or a cut download, which would otherwise read as a corrupt backup.
    message: !success && opts.signal?.aborted ? `verification of ${backup?.key ?? location} stopped before it finished (${stopReason(opts.signal)})` : message,
  });
  const work = await mkdtemp(join(os.tmpdir(), "restore-verify-"));
  const scratchDb = `restore_verify_${startedAt.toISOString().replace(/\D/g, "").slice(0, 14)}_${process.pid}`;
  let created = false;
  try {
    backup = await newestBackup(opts.store, opts.prefix);
    if (!backup) return done(false, `no backup found under ${location}: the bucket is empty or the backups are not reaching it`);
    opts.logger.info({ event: "verify.found", key: backup.key, takenAt: backup.takenAt.toISOString(), bytes: backup.bytes }, "newest backup");

    const file = join(work, "backup.dump");
    await pipeline(await opts.store.get(backup.key), createWriteStream(file, { flags: "wx" }), { signal: opts.signal });
    const size = (await stat(file)).size;
    if (size !== backup.bytes) return done(false, `backup ${backup.key}: read ${size} bytes, the store lists ${backup.bytes}`);

    let expected: Map<string, number>;
    try {
      expected = await archiveRowCounts(opts.pgBinDir, file, opts.signal);
    } catch (err) {
      return done(false, `backup ${backup.key} is unreadable (corrupt or truncated): ${(err as Error).message}`);
    }

    await withClient(opts.scratchUrl, (c) => c.query(`CREATE DATABASE "${scratchDb}"`), opts.signal);
    created = true;
    const target = libpq(databaseUrl(opts.scratchUrl, scratchDb));
    try {
      await runTool(
        bin(opts.pgBinDir, "pg_restore"),
        ["--exit-on-error", "--no-owner", "--no-privileges", "--no-password", `--dbname=${target.dbname}`, file],
        target.env,
        undefined,
        opts.signal,
      );
    } catch (err) {
      return done(false, `backup ${backup.key} does not restore: ${(err as Error).message}`);
    }
    opts.logger.info({ event: "verify.restored", key: backup.key, database: scratchDb }, "restored into the scratch database");

    const problems = await withClient(databaseUrl(opts.scratchUrl, scratchDb), async (c) => {
      const found: string[] = [];
      let total = 0;
      for (const [table, rows] of expected) {
        const { rows: r } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${quoteQualified(table)}`);
        const n = Number(r[0]!.n);
        total += n;
        if (n !== rows) found.push(`${table} holds ${n} row(s) after the restore, the archive ${rows}`);
      }
      restoredRows = total;
      if (!expected.has("public.container_jobs")) found.push("the archive holds no data for public.container_jobs");
      found.push(...(await jobsConstraintProblems(c)));
      found.push(...(await runbookProblems(c, opts.runbookQueries ?? RUNBOOK_SQL)));
      return found;
    }, opts.signal);
    if (problems.length > 0) return done(false, `backup ${backup.key} restored but fails its checks: ${problems.join("; ")}`);
    const queries = (opts.runbookQueries ?? RUNBOOK_SQL).length;
    return done(true, `backup ${backup.key} restored: ${restoredRows} row(s) in ${expected.size} table(s) match the archive, container_jobs constraints hold, ${queries} runbook queries ran`);
  } catch (err) {
    return done(false, `verification of ${backup?.key ?? location} could not finish: ${(err as Error).message}`);
  } finally {
    if (created) {
      await withClient(opts.scratchUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${scratchDb}" WITH (FORCE)`)).catch((err: Error) =>
        opts.logger.warn({ event: "verify.cleanup", err: err.message }, "could not drop the scratch database"),
      );
    }
    await rm(work, { recursive: true, force: true });
  }
}

export const RECORD_SQL = `
  INSERT INTO restore_verifications
    (started_at, finished_at, success, location, backup_key, backup_taken_at, backup_bytes, restored_rows, message)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  RETURNING id`;

/** Writes the outcome as a row of the jobs database, where the database's exporter reads it. */
export async function recordVerification(databaseUrl: string, o: VerificationOutcome): Promise<number> {
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query<{ id: string }>(RECORD_SQL, [
      o.startedAt,
      o.finishedAt,
      o.success,
      o.location,
      o.backup?.key ?? null,
      o.backup?.takenAt ?? null,
      o.backup?.bytes ?? null,
      o.restoredRows ?? null,
      o.message.slice(0, 4000),
    ]);
    return Number(rows[0]!.id);
  });
}

/** Waits for the scratch server (the Job's sidecar) to accept connections. */
export async function waitForServer(url: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    try {
      await withClient(url, (c) => c.query("SELECT 1"));
      return;
    } catch (err) {
      if (Date.now() > deadline || signal?.aborted) {
        throw new VerificationError(`the scratch database at ${redactUrl(url)} did not accept connections within ${timeoutSeconds} s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
