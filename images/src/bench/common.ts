import path from "node:path";
import { Pool } from "pg";
import { z } from "zod";
import { migrate } from "../db/migrate";
import { startEmbeddedPostgres } from "../dev/embedded-db";
import type { JobHandler, ResultStore } from "../runtime/types";

export interface BenchDatabase {
  readonly url: string;
  readonly pool: Pool;
  /** The benchmark started this server itself; nobody else's jobs can be in it. */
  readonly created: boolean;
  close(): Promise<void>;
}

/** Marks every job a benchmark inserts, so it can tell them from anybody else's. */
export const BENCH_MARK = "pitchey_bench";

/** The flag that lets a benchmark delete jobs it did not insert. */
export const DISCARD_FLAG = "--discard-existing-jobs";

export class ForeignJobsError extends Error {
  override name = "ForeignJobsError";
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

/** Jobs in `container_jobs` that no benchmark inserted; 0 when the table does not exist yet. */
async function foreignJobs(db: { query: Pool["query"] }): Promise<number> {
  const { rows } = await db.query<{ n: number | null }>(
    `SELECT CASE WHEN to_regclass('container_jobs') IS NULL THEN 0 END AS n`,
  );
  if (rows[0]!.n === 0) return 0;
  const counted = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM container_jobs WHERE NOT (payload ? '${BENCH_MARK}')`,
  );
  return counted.rows[0]!.n;
}

/**
 * DATABASE_URL when given, else a private embedded PostgreSQL with default
 * (durable) settings; migrated. A database the benchmark did not create is
 * used only while it holds no jobs the benchmark did not insert (benchmarks
 * delete and claim jobs), unless the command line says `--discard-existing-jobs`.
 */
export async function benchDatabase(argv: readonly string[] = process.argv.slice(2)): Promise<BenchDatabase> {
  const external = process.env.DATABASE_URL;
  const discard = argv.includes(DISCARD_FLAG);
  if (external && !discard) {
    const probe = new Pool({ connectionString: external, max: 1 });
    try {
      const n = await foreignJobs(probe);
      if (n > 0) {
        throw new ForeignJobsError(
          `refusing to run on ${redact(external)}: container_jobs holds ${n} job(s) no benchmark inserted, and benchmarks ` +
            `delete and claim jobs there. Point DATABASE_URL at a scratch database (or unset it to use a private one), ` +
            `or pass ${DISCARD_FLAG} to delete them.`,
        );
      }
    } finally {
      await probe.end();
    }
  }
  const embedded = external ? undefined : await startEmbeddedPostgres({ fast: false });
  const url = external ?? embedded!.url;
  await migrate(url);
  const pool = new Pool({ connectionString: url, max: 20 });
  // Idle connections die when the embedded server stops at the end.
  pool.on("error", () => undefined);
  const created = !external;
  return {
    url,
    pool,
    created: created || discard,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

/**
 * Empties `container_jobs` for the next round. Checked under the table lock
 * TRUNCATE takes anyway, so a job inserted by someone else since the start
 * is never deleted behind the check's back.
 */
export async function truncateJobs(db: BenchDatabase): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("LOCK TABLE container_jobs IN ACCESS EXCLUSIVE MODE");
    const n = db.created ? 0 : await foreignJobs(client);
    if (n > 0) throw new ForeignJobsError(`refusing to TRUNCATE container_jobs: ${n} job(s) appeared that no benchmark inserted`);
    await client.query("TRUNCATE container_jobs");
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Prints a refusal as one line and exits 2; anything else as a stack trace and exit 1. */
export function exitOnError(err: unknown): never {
  if (err instanceof ForeignJobsError) {
    console.error(`${path.basename(process.argv[1] ?? "bench")}: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
}

export const noStore: ResultStore = {
  put: () => Promise.reject(new Error("no store in benchmarks")),
  fetchToFile: () => Promise.reject(new Error("no store in benchmarks")),
};

export function noopHandler(onRun?: () => void): JobHandler {
  return {
    type: "code",
    payloadSchema: z.unknown(),
    async run() {
      onRun?.();
      return null;
    },
  };
}

export function intFromEnv(name: string, def: number): number {
  const raw = process.env[name];
  if (!raw) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
