import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, serverTool } from "../src/dev/embedded-db";

export interface PgBouncer {
  /** Connection URL through the pooler, same database and credentials as the server's. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real PgBouncer in front of `serverUrl`, configured like the operator's Pooler: `poolMode` session (what the
 * program deploys) or transaction (to show what breaks). PgBouncer refuses to run as root, so as root it runs as
 * the `postgres` user the embedded server already uses.
 */
export async function startPgBouncer(serverUrl: string, poolMode: "session" | "transaction"): Promise<PgBouncer> {
  // As root it runs as the postgres user, from a copy within that user's reach when the clone is not.
  const { path: bin, env, runAs } = serverTool("pgbouncer");
  const server = new URL(serverUrl);
  const dbName = server.pathname.slice(1);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const dir = await mkdtemp(path.join(os.tmpdir(), "pitchey-pgbouncer-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  await writeFile(path.join(dir, "userlist.txt"), `"${user}" "${password}"\n`, { mode: 0o644 });
  await writeFile(
    path.join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `${dbName} = host=${server.hostname} port=${server.port} dbname=${dbName}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = plain",
      `auth_file = ${path.join(dir, "userlist.txt")}`,
      `pool_mode = ${poolMode}`,
      "max_client_conn = 200",
      "default_pool_size = 20",
      "ignore_startup_parameters = extra_float_digits,options",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  const logs: string[] = [];
  const child: ChildProcess = spawn(bin, [path.join(dir, "pgbouncer.ini")], { ...runAs, env, cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => logs.push(String(d)));
  child.stderr!.on("data", (d) => logs.push(String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Ready once it accepts TCP connections.
  const net = await import("node:net");
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}):\n${logs.join("")}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}:\n${logs.join("")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = new URL(serverUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    async stop() {
      child.kill("SIGINT");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
