import { Pool } from "pg";
import { z } from "zod";
import { migrate } from "../db/migrate";
import { startEmbeddedPostgres } from "../dev/embedded-db";
import type { JobHandler, ResultStore } from "../runtime/types";

export interface BenchDatabase {
  readonly url: string;
  readonly pool: Pool;
  close(): Promise<void>;
}

/** DATABASE_URL when given, else a private embedded PostgreSQL with default (durable) settings; migrated. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres({ fast: false });
  const url = external ?? embedded!.url;
  await migrate(url);
  const pool = new Pool({ connectionString: url, max: 20 });
  // Idle connections die when the embedded server stops at the end.
  pool.on("error", () => undefined);
  return {
    url,
    pool,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
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
