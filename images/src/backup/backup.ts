import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import type { Logger } from "pino";
import { type RetentionPolicy, selectRetained } from "./retention";
import type { BackupStore } from "./store";
import { toolEnv } from "../runtime/tool-env";

export interface BackupOptions {
  readonly databaseUrl: string;
  readonly store: BackupStore;
  /** Prefix inside the store under which `postgres/` lives ("" or ending in "/"). */
  readonly prefix?: string;
  readonly policy: RetentionPolicy;
  /** Directory holding pg_dump and pg_restore; PATH when unset. */
  readonly pgBinDir?: string;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** A table the verified archive must contain. */
  readonly requiredTable?: string;
  /** Stops the run (the CronJob's deadline, a node drain): pg_dump is killed and nothing is stored or pruned. */
  readonly signal?: AbortSignal;
}

export interface BackupResult {
  readonly key: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly kept: number;
  readonly deleted: number;
}

const KEY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z\.dump$/;

/** `2026-11-28T01-00-00Z.dump`: sortable, and free of the colons some tools choke on. */
export function backupName(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace(/:/g, "-")}Z.dump`;
}

/** The time a backup's name records, or undefined for anything that is not a backup. */
export function parseBackupName(name: string): Date | undefined {
  const m = KEY_PATTERN.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Rejects dates like 2026-02-30 that Date.UTC would roll over.
  return backupName(t) === name ? t : undefined;
}

export class BackupError extends Error {
  override readonly name = "BackupError";
}

const bin = (dir: string | undefined, tool: string) => (dir ? join(dir, tool) : tool);

/** libpq takes the password from the environment so that it never shows in a process listing. */
function connection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(databaseUrl);
  // pg_dump gets libpq's own settings (PGSSLMODE and the like) and its password, not the job's other secrets.
  const libpq = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PG") && k !== "PGPASSWORD"));
  const env = toolEnv(libpq);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = "";
  return { dbname: u.toString(), env };
}

function redact(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

async function run(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: toolEnv() });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (err += c));
  const [code] = (await once(child, "close").catch((e: Error) => {
    throw new BackupError(`${cmd} could not be run: ${e.message}`);
  })) as [number | null];
  if (code !== 0) throw new BackupError(`${cmd} ${args.join(" ")} failed (${code}): ${err.trim()}`);
  return out;
}

const majorOf = (versionOutput: string) => Number(/\b(\d+)(?:\.\d+)?/.exec(versionOutput.replace(/^[^)]*\)/, ""))?.[1]);

/** pg_dump refuses newer servers; saying so up front beats a half-started upload and libpq's wording. */
async function checkVersions(databaseUrl: string, pgBinDir: string | undefined): Promise<{ client: number; server: number }> {
  const client = majorOf(await run(bin(pgBinDir, "pg_dump"), ["--version"]));
  const db = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  let server: number;
  try {
    await db.connect();
    const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    server = Math.floor(Number(rows[0]!.v) / 10_000);
  } catch (err) {
    throw new BackupError(`cannot connect to ${redact(databaseUrl)}: ${(err as Error).message}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  if (!(client >= server)) {
    throw new BackupError(`pg_dump ${client} cannot dump a PostgreSQL ${server} server; point PG_BIN_DIR at client tools of version ${server} or newer`);
  }
  return { client, server };
}

/** Streams `pg_dump --format=custom` into the store; the object appears only if pg_dump exits 0. */
async function dumpTo(opts: BackupOptions, key: string): Promise<number> {
  const { dbname, env } = connection(opts.databaseUrl);
  const child = spawn(bin(opts.pgBinDir, "pg_dump"), ["--format=custom", "--compress=9", "--no-password", `--dbname=${dbname}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
    // Killing pg_dump ends its output early and fails the commit check, so the store discards the upload.
    signal: opts.signal,
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  // Handled here so an early failure is not an unhandled rejection while the upload runs.
  exited.catch(() => undefined);
  try {
    const stored = await opts.store.put(key, child.stdout, async () => {
      const code = await exited;
      if (code !== 0) throw new BackupError(`pg_dump failed (exit ${code}): ${stderr.trim()}`);
    });
    return stored.bytes;
  } catch (err) {
    child.kill("SIGTERM");
    if (err instanceof BackupError) throw err;
    if (opts.signal?.aborted) throw new BackupError("backup stopped before it completed; nothing was stored");
    const code = await exited.catch(() => null);
    throw new BackupError(`storing the dump failed: ${(err as Error).message}${code ? `; pg_dump exit ${code}: ${stderr.trim()}` : ""}`);
  }
}

/** Feeds a stored object to pg_restore and returns its stdout. */
async function restoreFrom(pgBinDir: string | undefined, body: Readable, args: string[]): Promise<string> {
  const child = spawn(bin(pgBinDir, "pg_restore"), args, { stdio: ["pipe", "pipe", "pipe"], env: toolEnv() });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (err = (err + c).slice(-4000)));
  const exited = once(child, "close") as Promise<[number | null]>;
  // pg_restore --list stops reading once it has the table of contents, which ends the pipe early.
  child.stdin.on("error", () => undefined);
  await pipeline(body, child.stdin).catch(() => undefined);
  const [code] = await exited;
  if (code !== 0) throw new BackupError(`pg_restore ${args.join(" ")} failed (exit ${code}): ${err.trim()}`);
  return out;
}

/**
 * Reads the stored backup back: its table of contents must list `table`, and the whole archive must
 * decode (pg_restore renders it to SQL, which reads and decompresses every block).
 */
async function verify(opts: BackupOptions, key: string, table: string): Promise<void> {
  const toc = await restoreFrom(opts.pgBinDir, await opts.store.get(key), ["--list"]);
  if (!new RegExp(`\\bTABLE (?:\\S+ )?${table}\\b`).test(toc)) {
    throw new BackupError(`backup ${key} does not list table ${table}`);
  }
  await restoreFrom(opts.pgBinDir, await opts.store.get(key), ["--file=/dev/null"]);
}

/** Deletes the backups the policy does not keep; never `justTaken`, never keys that are not backups. */
async function prune(opts: BackupOptions, dir: string, justTaken: string, now: Date): Promise<{ kept: number; deleted: number }> {
  const backups = new Map<Date, string>();
  for (const { key } of await opts.store.list(dir)) {
    const at = parseBackupName(key.slice(dir.length));
    if (at) backups.set(at, key);
    else opts.logger.warn({ key }, "not a backup; left alone");
  }
  const retained = selectRetained([...backups.keys()], opts.policy, now);
  let kept = 0;
  let deleted = 0;
  for (const [at, key] of backups) {
    opts.signal?.throwIfAborted();
    if (retained.has(at) || key === justTaken) {
      kept++;
      continue;
    }
    await opts.store.delete(key);
    deleted++;
    opts.logger.info({ event: "backup.deleted", key }, "deleted expired backup");
  }
  return { kept, deleted };
}

/** Dump, verify, prune: pruning happens only once this run's backup is stored and verified. */
export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const now = (opts.now ?? (() => new Date()))();
  const dir = `${opts.prefix ?? ""}postgres/`;
  const key = dir + backupName(now);
  const versions = await checkVersions(opts.databaseUrl, opts.pgBinDir);
  opts.logger.info({ event: "backup.started", key, url: opts.store.url(key), pgDump: versions.client, server: versions.server }, "dumping");
  const bytes = await dumpTo(opts, key);
  opts.signal?.throwIfAborted();
  opts.logger.info({ event: "backup.stored", key, bytes, seconds: (Date.now() - started) / 1000 }, "dump stored");
  try {
    await verify(opts, key, opts.requiredTable ?? "container_jobs");
  } catch (err) {
    // A backup that does not restore is worse than none: it would be counted as the newest and keep older, good ones from being retained.
    await opts.store.delete(key).catch(() => undefined);
    throw err;
  }
  opts.logger.info({ event: "backup.verified", key }, "backup verified");
  const { kept, deleted } = await prune(opts, dir, key, now);
  return { key, bytes, seconds: (Date.now() - started) / 1000, kept, deleted };
}
