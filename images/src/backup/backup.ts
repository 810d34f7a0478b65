import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import type { Logger } from "pino";
import { type RetentionPolicy, isoWeekOf, selectRetained } from "./retention";
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
  /** Filled in as the run goes, so that a run failing part-way can still say what it stored. */
  readonly progress?: BackupProgress;
}

/** What a run has stored so far: the dump once it is verified, and each tier copy as it is written. */
export interface BackupProgress {
  key?: string;
  bytes?: number;
  readonly tierCopies: string[];
}

export interface BackupResult {
  readonly key: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly kept: number;
  readonly deleted: number;
  /** Tier copies written this run (`postgres/daily/…` and the like). */
  readonly promoted: readonly string[];
}

/**
 * The tiers and where each lives under `<prefix>postgres/`. Every run's dump lands at the top (the hourly tier, where
 * restores look for the newest); the first dump of each UTC day, ISO week and month is also copied into its tier's own
 * folder, so each tier can be locked and expired for its own retention.
 */
export const TIERS = ["hourly", "daily", "weekly", "monthly"] as const;
export type Tier = (typeof TIERS)[number];

/** The folder of a tier, relative to `postgres/`. */
export const tierFolder = (tier: Tier) => (tier === "hourly" ? "" : `${tier}/`);

const PERIOD_OF: Record<Tier, (d: Date) => string> = {
  hourly: (d) => d.toISOString().slice(0, 13),
  daily: (d) => d.toISOString().slice(0, 10),
  weekly: isoWeekOf,
  monthly: (d) => d.toISOString().slice(0, 7),
};

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

/** A child's exit code once it has closed; rejects if it could not be run or was stopped by `signal`. */
function exitOf(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  // Handled here so that a failure before anyone awaits it is not an unhandled rejection.
  exited.catch(() => undefined);
  return exited;
}

const STOPPED = "backup stopped before it completed; nothing was stored";

async function run(cmd: string, args: string[], signal: AbortSignal | undefined): Promise<string> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: toolEnv(), signal });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (err += c));
  const code = await exitOf(child).catch((e: Error) => {
    throw new BackupError(signal?.aborted ? STOPPED : `${cmd} could not be run: ${e.message}`);
  });
  if (code !== 0) throw new BackupError(`${cmd} ${args.join(" ")} failed (${code}): ${err.trim()}`);
  return out;
}

const majorOf = (versionOutput: string) => Number(/\b(\d+)(?:\.\d+)?/.exec(versionOutput.replace(/^[^)]*\)/, ""))?.[1]);

/** pg_dump refuses newer servers; saying so up front beats a half-started upload and libpq's wording. */
async function checkVersions(databaseUrl: string, pgBinDir: string | undefined, signal: AbortSignal | undefined): Promise<{ client: number; server: number }> {
  const client = majorOf(await run(bin(pgBinDir, "pg_dump"), ["--version"], signal));
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
  const exited = exitOf(child);
  // Read from now on: Node discards a child's output nobody listens to once the child exits, and a small database is
  // dumped before a slow store (the S3 SDK loading, the first request to R2) starts reading. The pipe holds it, with
  // back-pressure, until the store takes it.
  const output = child.stdout.pipe(new PassThrough());
  try {
    const stored = await opts.store.put(key, output, async () => {
      const code = await exited;
      if (code !== 0) throw new BackupError(`pg_dump failed (exit ${code}): ${stderr.trim()}`);
    });
    return stored.bytes;
  } catch (err) {
    child.kill("SIGTERM");
    // The store stopped reading, perhaps before its first byte. pg_dump's output left in the pipes would hold its stdout
    // open, so the child would never close and nothing would keep the process alive: it would exit 0 mid-failure.
    output.destroy();
    child.stdout.destroy();
    if (err instanceof BackupError) throw err;
    if (opts.signal?.aborted) throw new BackupError(STOPPED);
    const code = await exited.catch(() => null);
    throw new BackupError(`storing the dump failed: ${(err as Error).message}${code ? `; pg_dump exit ${code}: ${stderr.trim()}` : ""}`);
  }
}

/** Feeds a stored object to pg_restore and returns its stdout; a stop kills pg_restore. */
async function restoreFrom(pgBinDir: string | undefined, body: Readable, args: string[], signal: AbortSignal | undefined): Promise<string> {
  const child = spawn(bin(pgBinDir, "pg_restore"), args, { stdio: ["pipe", "pipe", "pipe"], env: toolEnv(), signal });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", (c: Buffer) => (err = (err + c).slice(-4000)));
  const exited = exitOf(child);
  // pg_restore --list stops reading once it has the table of contents, which ends the pipe early.
  child.stdin.on("error", () => undefined);
  await pipeline(body, child.stdin).catch(() => undefined);
  const code = await exited.catch((e: Error) => {
    throw new BackupError(signal?.aborted ? STOPPED : `pg_restore could not be run: ${e.message}`);
  });
  if (code !== 0) throw new BackupError(`pg_restore ${args.join(" ")} failed (exit ${code}): ${err.trim()}`);
  return out;
}

/**
 * Reads the stored backup back: its table of contents must list `table`, and the whole archive must
 * decode (pg_restore renders it to SQL, which reads and decompresses every block).
 */
async function verify(opts: BackupOptions, key: string, table: string): Promise<void> {
  const toc = await restoreFrom(opts.pgBinDir, await opts.store.get(key), ["--list"], opts.signal);
  if (!new RegExp(`\\bTABLE (?:\\S+ )?${table}\\b`).test(toc)) {
    throw new BackupError(`backup ${key} does not list table ${table}`);
  }
  await restoreFrom(opts.pgBinDir, await opts.store.get(key), ["--file=/dev/null"], opts.signal);
}

/** The backups in one tier's folder, by time; anything else is logged and left alone. */
async function listTier(opts: BackupOptions, dir: string): Promise<Map<Date, string>> {
  const backups = new Map<Date, string>();
  for (const { key } of await opts.store.list(dir)) {
    const name = key.slice(dir.length);
    // Deeper folders are other tiers'.
    if (name.includes("/")) continue;
    const at = parseBackupName(name);
    if (at) backups.set(at, key);
    else opts.logger.warn({ key }, "not a backup; left alone");
  }
  return backups;
}

/**
 * Copies into each higher tier the first backup of every period that tier does not hold yet, is newer than the newest
 * it holds (a period pruned from a tier never comes back) and is among the newest `policy[tier]` periods (a copy is
 * locked from the moment it is written, so nothing is copied only to be pruned). Oldest first, so a store written
 * before the tiers existed is sorted into them on its first run.
 */
async function promote(opts: BackupOptions, base: string, hourly: Map<Date, string>): Promise<string[]> {
  const copies: string[] = opts.progress?.tierCopies ?? [];
  const candidates = [...hourly].sort(([a], [b]) => a.getTime() - b.getTime());
  for (const tier of TIERS.filter((t) => t !== "hourly")) {
    const dir = base + tierFolder(tier);
    const periodOf = PERIOD_OF[tier];
    const held = [...(await listTier(opts, dir)).keys()].map(periodOf).sort();
    const newestHeld = held.at(-1) ?? "";
    const fresh = [...new Set(candidates.map(([at]) => periodOf(at)).filter((p) => p > newestHeld))];
    const wanted = new Set(fresh.slice(-opts.policy[tier]));
    for (const [at, key] of candidates) {
      const period = periodOf(at);
      if (!wanted.delete(period)) continue;
      opts.signal?.throwIfAborted();
      const target = dir + backupName(at);
      await opts.store.put(target, await opts.store.get(key), async () => undefined);
      copies.push(target);
      opts.logger.info({ event: "backup.promoted", key: target, tier }, `kept as the ${tier} backup`);
    }
  }
  return copies;
}

/**
 * Prunes each tier to its own count with the grandfather-father-son judge: the newest `policy[tier]` periods that
 * hold a backup stay. Never `justTaken`, never keys that are not backups.
 */
async function prune(opts: BackupOptions, base: string, justTaken: string, now: Date): Promise<{ kept: number; deleted: number }> {
  let kept = 0;
  let deleted = 0;
  for (const tier of TIERS) {
    const backups = await listTier(opts, base + tierFolder(tier));
    const only: RetentionPolicy = { hourly: 0, daily: 0, weekly: 0, monthly: 0, [tier]: opts.policy[tier] };
    const retained = selectRetained([...backups.keys()], only, now);
    for (const [at, key] of backups) {
      opts.signal?.throwIfAborted();
      if (retained.has(at) || key === justTaken) {
        kept++;
        continue;
      }
      try {
        await opts.store.delete(key);
      } catch (err) {
        // Object lock counts from when an object was written, not from its name: a copy sorted into its tier late
        // stays locked a while after it has left the tier. The backup itself is stored and verified, and the bucket's
        // lifecycle removes what pruning could not; the next run tries again.
        kept++;
        opts.logger.warn({ event: "backup.delete-refused", key, tier, err: (err as Error).message }, "could not delete an expired backup");
        continue;
      }
      deleted++;
      opts.logger.info({ event: "backup.deleted", key, tier }, "deleted expired backup");
    }
  }
  return { kept, deleted };
}

/** Dump, verify, prune: pruning happens only once this run's backup is stored and verified. */
export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const now = (opts.now ?? (() => new Date()))();
  const dir = `${opts.prefix ?? ""}postgres/`;
  const key = dir + backupName(now);
  const versions = await checkVersions(opts.databaseUrl, opts.pgBinDir, opts.signal);
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
  if (opts.progress) Object.assign(opts.progress, { key, bytes });
  const promoted = [...(await promote(opts, dir, await listTier(opts, dir)))];
  const { kept, deleted } = await prune(opts, dir, key, now);
  return { key, bytes, seconds: (Date.now() - started) / 1000, kept, deleted, promoted };
}
