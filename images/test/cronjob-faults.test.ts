import { type ChildProcess, spawn } from "node:child_process";
import { access, chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Storage } from "@google-cloud/storage";
import pino from "pino";
import S3rver from "s3rver";
import { Client } from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../src/backup/backup";
import { openBackupStore, type BackupStore } from "../src/backup/store";
import { freePort } from "../src/dev/embedded-db";
import { requireTool } from "../src/dev/tools";
import { clientBinDir, type ScratchServer, startMigratedServer, startScratchServer } from "./backup-pg";

/**
 * Every CronJob command run as its Job runs it, against real servers, with the faults the real world produces: a store
 * that refuses at some step or drops a large body part-way, a database that is unreachable or goes away, the Job's
 * deadline (SIGTERM), client tools that fail or hang. Whatever the fault, the command must exit non-zero promptly with
 * `<event>.failed` as its last line, and leave nothing half-applied.
 */
const root = path.join(__dirname, "..");
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
/** Larger than every pipe and socket buffer between the tools, so that a body nobody reads stays unread. */
const LARGE = 12 * 1024 * 1024;

let work: string;
let binDir: string;
let jobs: ScratchServer;
let s3: S3rver;
let s3Endpoint: string;
let faults: FaultProxy;

/**
 * What the fault proxy does with one request: pass it on (undefined), answer it with an S3 error, cut the response after
 * some bytes, stop sending it after some bytes (a stalled connection), or never answer at all.
 */
type Fault = { readonly status: number; readonly code: string } | { readonly cutAfterBytes: number } | { readonly stallAfterBytes: number } | "hang" | undefined;
type Rule = (req: { method: string; bucket: string; key: string; query: URLSearchParams }) => Fault;

/** Forwards to s3rver, except where its rule injects a fault. */
class FaultProxy {
  rule: Rule = () => undefined;
  private readonly server: http.Server;
  private readonly upstreams = new Set<http.ClientRequest>();
  endpoint = "";

  /** Where requests go; settable after the start, for a server that must be told the proxy's address. */
  constructor(public upstream = "") {
    this.server = http.createServer((req, res) => {
      const u = new URL(req.url!, "http://x");
      const [, bucket = "", ...rest] = u.pathname.split("/");
      const fault = this.rule({ method: req.method!, bucket, key: decodeURIComponent(rest.join("/")), query: u.searchParams });
      if (fault === "hang") return;
      if (fault && "status" in fault) {
        // Answered once the request is read, as S3 does: an early answer would show as a broken pipe instead.
        req.resume().once("end", () => {
          res.writeHead(fault.status, { "content-type": "application/xml" });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>${fault.code}: refused by the test</Message></Error>`);
        });
        return;
      }
      const t = new URL(this.upstream);
      const fwd = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.on("close", () => up.destroy());
        if (!fault) return void up.pipe(res);
        const limit = "cutAfterBytes" in fault ? fault.cutAfterBytes : fault.stallAfterBytes;
        let sent = 0;
        up.on("data", (c: Buffer) => {
          if (sent >= limit) return;
          sent += c.length;
          res.write(c);
          if (sent < limit) return;
          if ("cutAfterBytes" in fault) res.socket?.destroy();
          else up.pause();
        });
      });
      this.upstreams.add(fwd);
      fwd.on("close", () => this.upstreams.delete(fwd));
      fwd.on("error", () => res.socket?.destroy());
      req.pipe(fwd);
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    for (const r of this.upstreams) r.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "cronjob-faults-"));
  binDir = clientBinDir();
  s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(work, "s3"), configureBuckets: [{ name: "results" }, { name: "backups" }, { name: "copy" }] });
  s3Endpoint = `http://127.0.0.1:${((await s3.run()) as AddressInfo).port}`;
  faults = new FaultProxy(s3Endpoint);
  await faults.start();
  jobs = await startMigratedServer();
}, 120_000);
afterAll(async () => {
  await faults?.stop();
  await jobs?.stop();
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
  /** The hang guard ended it. */
  readonly hung: boolean;
}

/**
 * Runs a command the way its CronJob does: node with tsx's loader (no relaying wrapper), only the given environment.
 * `during` runs once the command is started and may stop servers or signal the child. Killed after `guardMs`.
 */
function command(file: string, env: Record<string, string>, opts: { args?: string[]; during?: (child: ReturnType<typeof spawn>, out: () => string) => Promise<void>; guardMs?: number } = {}): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/cli", file), ...(opts.args ?? [])], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, opts.guardMs ?? 30_000);
  const closed = new Promise<Run>((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(guard);
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, lines, stderr, hung });
    }),
  );
  if (opts.during) void opts.during(child, () => stdout);
  return closed;
}

/** Resolves once `check` holds, polling; fails after 20 s. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A directory of client tools where `tool` is the given shell script and every other is the real one. */
async function fakeTools(scripts: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(work, "bin-"));
  for (const tool of ["pg_dump", "pg_restore"]) {
    await writeFile(path.join(dir, tool), scripts[tool] ?? `#!/bin/sh\nexec "${binDir}/${tool}" "$@"\n`);
    await chmod(path.join(dir, tool), 0o755);
  }
  return dir;
}

const store = (bucket: string, endpoint = s3Endpoint): BackupStore => openBackupStore(`s3://${bucket}`, { endpoint, credentials }).store;
const put = (s: BackupStore, key: string, body: Buffer) => s.put(key, Readable.from([body]), async () => undefined);
const keys = async (bucket: string, prefix = "") => (await store(bucket).list(prefix)).map((o) => o.key);
const s3env = (prefix: string) => ({ [`${prefix}_S3_ENDPOINT`]: faults.endpoint, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" });

function expectFailed(r: Run, event: string, err?: RegExp): void {
  expect(r.hung, `still running after the hang guard: ${JSON.stringify(r.lines.at(-1))}`).toBe(false);
  expect(r.code, r.stderr).toBe(1);
  expect(r.lines.at(-1), r.stderr).toMatchObject({ event: `${event}.failed` });
  if (err) expect(String(r.lines.at(-1)!.err)).toMatch(err);
}

afterEach(() => {
  faults.rule = () => undefined;
});

let n = 0;
/** A fresh key prefix, so that tests sharing a bucket never see each other's objects. */
const fresh = (what: string) => `${what}${++n}`;
const lastRun = async () => (await jobs.query<{ success: boolean; error: string | null; backup_key: string | null }>("SELECT success, error, backup_key FROM backup_runs ORDER BY id DESC LIMIT 1"))[0];
const exists = (file: string) => access(file).then(() => true, () => false);

describe("results mirror", () => {
  it("a backups bucket that refuses the copy of a large result fails the run", async () => {
    const src = fresh("src");
    await put(store("results"), `${src}/video/1/out.mp4`, Buffer.alloc(LARGE, 1));
    faults.rule = ({ method, bucket, query }) => (bucket === "backups" && method === "POST" && query.has("uploads") ? { status: 403, code: "AccessDenied" } : undefined);
    const dst = fresh("dst");
    const r = await command("mirror-results.ts", { MIRROR_SOURCE_URL: `s3://results/${src}`, MIRROR_TARGET_URL: `s3://backups/${dst}`, ...s3env("MIRROR") });
    expectFailed(r, "mirror", /AccessDenied/);
    expect(await keys("backups", dst)).toEqual([]);
  });

  it("a result whose download is cut part-way fails the run and leaves no object", async () => {
    const src = fresh("src");
    await put(store("results"), `${src}/video/1/out.mp4`, Buffer.alloc(LARGE, 2));
    faults.rule = ({ method, bucket, query }) => (bucket === "results" && method === "GET" && !query.has("list-type") ? { cutAfterBytes: 3 * 1024 * 1024 } : undefined);
    const dst = fresh("dst");
    const r = await command("mirror-results.ts", { MIRROR_SOURCE_URL: `s3://results/${src}`, MIRROR_TARGET_URL: `s3://backups/${dst}`, ...s3env("MIRROR") });
    expectFailed(r, "mirror");
    expect(await keys("backups", dst)).toEqual([]);
  });

  it("a part refused after the first was written fails the run and leaves no object", async () => {
    const src = fresh("src");
    await put(store("results"), `${src}/video/1/out.mp4`, Buffer.alloc(20 * 1024 * 1024, 3));
    faults.rule = ({ method, bucket, query }) => (bucket === "backups" && method === "PUT" && query.get("partNumber") === "2" ? { status: 500, code: "InternalError" } : undefined);
    const dst = fresh("dst");
    const r = await command("mirror-results.ts", { MIRROR_SOURCE_URL: `s3://results/${src}`, MIRROR_TARGET_URL: `s3://backups/${dst}`, ...s3env("MIRROR") });
    expectFailed(r, "mirror", /InternalError/);
    expect(await keys("backups", dst)).toEqual([]);
  });

  it("SIGTERM while a large result is being copied stops the run promptly", async () => {
    const src = fresh("src");
    await put(store("results"), `${src}/video/1/out.mp4`, Buffer.alloc(LARGE, 4));
    let reached = false;
    faults.rule = ({ method, bucket, query }) => {
      if (bucket !== "results" || method !== "GET" || query.has("list-type")) return undefined;
      reached = true;
      return { stallAfterBytes: 1024 * 1024 };
    };
    const dst = fresh("dst");
    const r = await command(
      "mirror-results.ts",
      { MIRROR_SOURCE_URL: `s3://results/${src}`, MIRROR_TARGET_URL: `s3://backups/${dst}`, ...s3env("MIRROR") },
      {
        during: async (child) => {
          await until(() => reached, "the download");
          await new Promise((res) => setTimeout(res, 300));
          child.kill("SIGTERM");
        },
      },
    );
    expectFailed(r, "mirror");
    expect(r.lines.at(-1)).toMatchObject({ stoppedBy: "SIGTERM" });
    expect(await keys("backups", dst)).toEqual([]);
  });
});

describe("db backup", () => {
  const big = `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "BIN/pg_dump" --version; fi\nexec head -c 20000000 /dev/urandom\n`;

  it("a part refused after the first was written fails the run, records it, stores nothing", async () => {
    const pgBin = await fakeTools({ pg_dump: big.replace("BIN", binDir) });
    faults.rule = ({ method, query }) => (method === "PUT" && query.get("partNumber") === "2" ? { status: 403, code: "AccessDenied" } : undefined);
    const prefix = fresh("bk");
    const r = await command("backup.ts", { DATABASE_URL: jobs.url, BACKUP_STORE_URL: `s3://backups/${prefix}`, PG_BIN_DIR: pgBin, ...s3env("BACKUP") });
    expectFailed(r, "backup", /AccessDenied/);
    expect(await keys("backups", prefix)).toEqual([]);
    expect(await lastRun()).toMatchObject({ success: false, backup_key: null });
  });

  it("SIGTERM while the store holds an upload unanswered stops the run promptly and records it", async () => {
    const pgBin = await fakeTools({ pg_dump: big.replace("BIN", binDir) });
    let reached = false;
    faults.rule = ({ method, query }) => {
      if (method !== "PUT" || !query.has("partNumber")) return undefined;
      reached = true;
      return "hang";
    };
    const prefix = fresh("bk");
    const r = await command(
      "backup.ts",
      { DATABASE_URL: jobs.url, BACKUP_STORE_URL: `s3://backups/${prefix}`, PG_BIN_DIR: pgBin, ...s3env("BACKUP") },
      {
        during: async (child) => {
          await until(() => reached, "the upload");
          child.kill("SIGTERM");
        },
      },
    );
    expectFailed(r, "backup");
    expect(await keys("backups", prefix)).toEqual([]);
    expect(await lastRun()).toMatchObject({ success: false });
  });

  it.each([
    ["pg_restore verifies (and hangs)", "pg_restore"],
    ["pg_dump --version hangs", "pg_dump"],
  ])("SIGTERM while %s stops the run promptly", async (_what, tool) => {
    const marker = path.join(work, fresh(`${tool}-started`));
    const pgBin = await fakeTools({ [tool]: `#!/bin/sh\ntouch "${marker}"\nexec sleep 60\n` });
    const dir = await mkdtemp(path.join(work, "store-"));
    const r = await command(
      "backup.ts",
      { DATABASE_URL: jobs.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: pgBin },
      {
        during: async (child) => {
          await until(() => exists(marker), tool);
          child.kill("SIGTERM");
        },
      },
    );
    expectFailed(r, "backup");
    expect(await lastRun()).toMatchObject({ success: false });
  });
});

describe("db backup, after the dump", () => {
  const OLD = "postgres/2026-01-01T00-00-00Z.dump";
  const keepOne = { BACKUP_KEEP_HOURLY: "1", BACKUP_KEEP_DAILY: "1", BACKUP_KEEP_WEEKLY: "1", BACKUP_KEEP_MONTHLY: "1" };

  it("a store that refuses to give the dump back for verification keeps no unverified dump and prunes nothing", async () => {
    const prefix = fresh("bk");
    await put(store("backups"), `${prefix}/${OLD}`, Buffer.from("old"));
    faults.rule = ({ method, key, query }) => (method === "GET" && !query.has("list-type") && key.startsWith(`${prefix}/`) ? { status: 403, code: "AccessDenied" } : undefined);
    const r = await command("backup.ts", { DATABASE_URL: jobs.url, BACKUP_STORE_URL: `s3://backups/${prefix}`, PG_BIN_DIR: binDir, ...keepOne, ...s3env("BACKUP") });
    expectFailed(r, "backup", /AccessDenied/);
    expect(await keys("backups", prefix)).toEqual([`${prefix}/${OLD}`]);
    expect(await lastRun()).toMatchObject({ success: false, backup_key: null });
  });

  it("a tier copy refused after the dump is verified fails the run, keeps the dump and prunes nothing", async () => {
    const prefix = fresh("bk");
    await put(store("backups"), `${prefix}/${OLD}`, Buffer.from("old"));
    faults.rule = ({ method, key, query }) => (method === "POST" && query.has("uploads") && key.startsWith(`${prefix}/postgres/daily/`) ? { status: 403, code: "AccessDenied" } : undefined);
    const r = await command("backup.ts", { DATABASE_URL: jobs.url, BACKUP_STORE_URL: `s3://backups/${prefix}`, PG_BIN_DIR: binDir, ...keepOne, ...s3env("BACKUP") });
    expectFailed(r, "backup", /AccessDenied/);
    const stored = await keys("backups", prefix);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toBe(`${prefix}/${OLD}`);
    expect(await lastRun()).toMatchObject({ success: false, backup_key: stored[1] });
  });

  it("the database going away before pg_dump reads it fails the run, stores nothing, and says so last", async () => {
    const db = await startMigratedServer();
    const [started, stopped] = [path.join(work, fresh("dump-started")), path.join(work, fresh("db-stopped"))];
    const pgBin = await fakeTools({
      pg_dump: `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${binDir}/pg_dump" --version; fi\ntouch "${started}"\nwhile [ ! -e "${stopped}" ]; do sleep 0.1; done\nexec "${binDir}/pg_dump" "$@"\n`,
    });
    const dir = await mkdtemp(path.join(work, "store-"));
    try {
      const r = await command(
        "backup.ts",
        { DATABASE_URL: db.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: pgBin },
        {
          during: async () => {
            await until(() => exists(started), "pg_dump");
            await db.stop();
            await writeFile(stopped, "");
          },
        },
      );
      expectFailed(r, "backup", /pg_dump failed/);
      // The run could not be recorded either: said before the failure itself, which stays the last line.
      expect(r.lines.map((l) => l.event)).toContain("backup.record-failed");
      expect((await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())).toEqual([]);
    } finally {
      await db.stop();
    }
  });
});

/** A session holding container_jobs exclusively, so that maintenance's vacuum waits on it. */
async function lockJobsTable(url: string): Promise<Client> {
  const holder = new Client({ connectionString: url });
  holder.on("error", () => undefined);
  await holder.connect();
  await holder.query("BEGIN; LOCK TABLE container_jobs IN ACCESS EXCLUSIVE MODE");
  return holder;
}

/** Resolves once maintenance's vacuum is waiting on that lock. */
const vacuumWaiting = (db: ScratchServer) =>
  until(async () => (await db.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'maintenance-vacuum' AND wait_event_type = 'Lock'")).length > 0, "the vacuum");

describe("maintenance", () => {
  it("SIGTERM while a task waits stops it with maintenance.failed", async () => {
    const holder = await lockJobsTable(jobs.url);
    try {
      const r = await command(
        "maintenance.ts",
        { DATABASE_URL: jobs.url },
        {
          args: ["vacuum"],
          during: async (child) => {
            await vacuumWaiting(jobs);
            child.kill("SIGTERM");
          },
        },
      );
      expectFailed(r, "maintenance", /^vacuum: canceling statement/);
      expect(r.lines.at(-1)).toMatchObject({ stoppedBy: "SIGTERM" });
      // Cancelled on the server, not left running there after the command is gone.
      expect(await jobs.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'maintenance-vacuum'")).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it("a database unreachable at start fails with maintenance.failed", async () => {
    const r = await command("maintenance.ts", { DATABASE_URL: "postgres://postgres:secret-pw@127.0.0.1:1/postgres" }, { args: ["heartbeat"] });
    expectFailed(r, "maintenance", /^heartbeat: .*ECONNREFUSED/);
    expect(JSON.stringify(r.lines)).not.toContain("secret-pw");
  });

  it("a database that accepts the connection and never answers fails the run instead of holding it", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const r = await command("maintenance.ts", { DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${port}/postgres` }, { args: ["heartbeat"] });
      expectFailed(r, "maintenance", /^heartbeat: .*timeout/i);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("the database going away mid-task fails it with maintenance.failed", async () => {
    const db = await startMigratedServer();
    const holder = await lockJobsTable(db.url);
    try {
      const r = await command(
        "maintenance.ts",
        { DATABASE_URL: db.url },
        {
          args: ["vacuum"],
          during: async () => {
            await vacuumWaiting(db);
            await db.stop();
          },
        },
      );
      expectFailed(r, "maintenance", /^vacuum: terminating connection/);
    } finally {
      await holder.end().catch(() => undefined);
      await db.stop().catch(() => undefined);
    }
  });
});

describe("backup copy", () => {
  const copyEnv = (prefix: string) => ({
    COPY_SOURCE_URL: "s3://results",
    COPY_SOURCE_ENDPOINT: faults.endpoint,
    COPY_TARGET_URL: "s3://copy",
    COPY_TARGET_ENDPOINT: faults.endpoint,
    COPY_TARGET_REGION: "eu-west-1",
    COPY_PREFIXES: prefix,
    COPY_MONTHLY_RETENTION_SECONDS: "86400",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  });

  it("a destination that refuses the write fails the run", async () => {
    const prefix = `${fresh("rep")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 5));
    faults.rule = ({ method, bucket }) => (bucket === "copy" && method === "PUT" ? { status: 403, code: "AccessDenied" } : undefined);
    const r = await command("replicate-backups.ts", copyEnv(prefix));
    expectFailed(r, "replicate", /AccessDenied/);
    expect(await keys("copy", prefix)).toEqual([]);
  });

  it("a source download cut part-way fails the run instead of leaving the upload waiting for the rest", async () => {
    const prefix = `${fresh("rep")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 6));
    faults.rule = ({ method, bucket, query }) => (bucket === "results" && method === "GET" && !query.has("list-type") ? { cutAfterBytes: 3 * 1024 * 1024 } : undefined);
    const r = await command("replicate-backups.ts", copyEnv(prefix));
    // Whether anything shows under the key is s3rver's to say, not S3's: it writes a PutObject's body there as it arrives.
    expectFailed(r, "replicate");
  });

  it("SIGTERM while a download stalls stops the run promptly", async () => {
    const prefix = `${fresh("rep")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 7));
    let reached = false;
    faults.rule = ({ method, bucket, query }) => {
      if (bucket !== "results" || method !== "GET" || query.has("list-type")) return undefined;
      reached = true;
      return { stallAfterBytes: 1024 * 1024 };
    };
    const r = await command("replicate-backups.ts", copyEnv(prefix), {
      during: async (child) => {
        await until(() => reached, "the download");
        await new Promise((res) => setTimeout(res, 300));
        child.kill("SIGTERM");
      },
    });
    expectFailed(r, "replicate");
    expect(r.lines.at(-1)).toMatchObject({ stoppedBy: "SIGTERM" });
  });
});

describe("backup copy into GCS", () => {
  let gcs: ChildProcess | undefined;
  let gcsFaults: FaultProxy;
  const BUCKET = "pitchey-copy-faults";
  beforeAll(async () => {
    // fake-gcs-server hands out resumable-upload URLs on its public host: the proxy's, so the upload's chunks pass it too.
    gcsFaults = new FaultProxy();
    await gcsFaults.start();
    const port = await freePort();
    gcsFaults.upstream = `http://127.0.0.1:${port}`;
    gcs = spawn(requireTool("fake-gcs-server"), ["-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory", "-public-host", gcsFaults.endpoint.slice("http://".length), "-log-level", "error"], { stdio: "ignore" });
    const storage = new Storage({ apiEndpoint: gcsFaults.endpoint, projectId: "test" });
    await until(() => storage.createBucket(BUCKET).then(() => true, () => false), "fake-gcs-server");
  }, 60_000);
  afterAll(async () => {
    gcs?.kill();
    await gcsFaults?.stop();
  });
  afterEach(() => {
    gcsFaults.rule = () => undefined;
  });
  const gcsEnv = (prefix: string) => ({
    COPY_SOURCE_URL: "s3://results",
    COPY_SOURCE_ENDPOINT: faults.endpoint,
    COPY_TARGET_URL: `gs://${BUCKET}`,
    COPY_TARGET_ENDPOINT: gcsFaults.endpoint,
    GOOGLE_CLOUD_PROJECT: "test",
    COPY_PREFIXES: prefix,
    COPY_MONTHLY_RETENTION_SECONDS: "86400",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  });
  const copied = async (prefix: string) => (await new Storage({ apiEndpoint: gcsFaults.endpoint, projectId: "test" }).bucket(BUCKET).getFiles({ prefix }))[0].map((f) => f.name);

  it("SIGTERM while GCS holds a resumable upload unanswered stops the run promptly and writes nothing", async () => {
    const prefix = `${fresh("gcs")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 8));
    let reached = false;
    gcsFaults.rule = ({ method, query }) => {
      if (method !== "PUT" || !query.has("upload_id")) return undefined;
      reached = true;
      return "hang";
    };
    const r = await command("replicate-backups.ts", gcsEnv(prefix), {
      during: async (child) => {
        await until(() => reached, "the upload");
        child.kill("SIGTERM");
      },
    });
    expectFailed(r, "replicate");
    expect(r.lines.at(-1)).toMatchObject({ stoppedBy: "SIGTERM" });
    expect(await copied(prefix)).toEqual([]);
  });

  it("a source download cut part-way fails the run and writes nothing", async () => {
    const prefix = `${fresh("gcs")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 9));
    faults.rule = ({ method, bucket, query }) => (bucket === "results" && method === "GET" && !query.has("list-type") ? { cutAfterBytes: 3 * 1024 * 1024 } : undefined);
    const r = await command("replicate-backups.ts", gcsEnv(prefix));
    expectFailed(r, "replicate");
    expect(await copied(prefix)).toEqual([]);
  });

  it("GCS failing every chunk gives up and fails the run", async () => {
    const prefix = `${fresh("gcs")}/`;
    await put(store("results"), `${prefix}2026-11-30T00-00-00Z.dump`, Buffer.alloc(LARGE, 10));
    gcsFaults.rule = ({ method, query }) => (method === "PUT" && query.has("upload_id") ? { status: 503, code: "ServiceUnavailable" } : undefined);
    const r = await command("replicate-backups.ts", gcsEnv(prefix), { guardMs: 60_000 });
    expectFailed(r, "replicate");
    expect(await copied(prefix)).toEqual([]);
  }, 70_000);
});

describe("restore verification", () => {
  let goodDir: string;
  beforeAll(async () => {
    goodDir = await mkdtemp(path.join(work, "good-"));
    const { store: s, prefix } = openBackupStore(`file://${goodDir}`);
    await runBackup({ databaseUrl: jobs.url, store: s, prefix, policy: { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, pgBinDir: binDir, logger: pino({ level: "silent" }) });
  }, 60_000);
  const lastVerification = async () => (await jobs.query<{ success: boolean; message: string }>("SELECT success, message FROM restore_verifications ORDER BY id DESC LIMIT 1"))[0];

  it("SIGTERM while pg_restore reads the backup records a stopped verification, not a corrupt backup", async () => {
    const scratch = await startScratchServer();
    const marker = path.join(work, fresh("restore-started"));
    const pgBin = await fakeTools({ pg_restore: `#!/bin/sh\ntouch "${marker}"\nexec sleep 60\n` });
    try {
      const r = await command(
        "verify-restore.ts",
        { DATABASE_URL: jobs.url, SCRATCH_SERVER_URL: scratch.url, BACKUP_STORE_URL: `file://${goodDir}`, PG_BIN_DIR: pgBin },
        {
          during: async (child) => {
            await until(() => exists(marker), "pg_restore");
            child.kill("SIGTERM");
          },
        },
      );
      expectFailed(r, "verify");
      const row = await lastVerification();
      expect(row?.success).toBe(false);
      expect(row?.message).toMatch(/stopped/);
      expect(row?.message).not.toMatch(/corrupt|unreadable/);
    } finally {
      await scratch.stop();
    }
  });

  /**
   * A restore that succeeds and then waits until the test holds a lock on the restored `container_jobs`, so that the
   * verifier's row counts queue behind it: the verifier is connected and waiting on the scratch server.
   */
  async function blockedVerification(scratch: ScratchServer, then: (child: ChildProcess) => Promise<void>): Promise<Run> {
    const [restored, locked] = [path.join(work, fresh("restored")), path.join(work, fresh("locked"))];
    const pgBin = await fakeTools({
      pg_restore: `#!/bin/sh\n"${binDir}/pg_restore" "$@" || exit $?\ncase "$*" in *--dbname=*) touch "${restored}"; while [ ! -e "${locked}" ]; do sleep 0.1; done;; esac\n`,
    });
    let holder: Client | undefined;
    try {
      return await command(
        "verify-restore.ts",
        { DATABASE_URL: jobs.url, SCRATCH_SERVER_URL: scratch.url, BACKUP_STORE_URL: `file://${goodDir}`, PG_BIN_DIR: pgBin },
        {
          during: async (child) => {
            await until(() => exists(restored), "the restore");
            const [{ datname }] = await scratch.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'restore_verify_%'");
            holder = new Client({ connectionString: scratch.urlFor(datname!) });
            holder.on("error", () => undefined);
            await holder.connect();
            await holder.query("BEGIN; LOCK TABLE container_jobs IN ACCESS EXCLUSIVE MODE");
            await writeFile(locked, "");
            const waiting = "SELECT 1 FROM pg_stat_activity WHERE application_name = 'restore-verification' AND wait_event_type = 'Lock'";
            await until(async () => (await scratch.query(waiting)).length > 0, "the row counts");
            await then(child);
          },
        },
      );
    } finally {
      await holder?.end().catch(() => undefined);
    }
  }

  it("the scratch server going away mid-run is recorded as a failed verification", async () => {
    const scratch = await startScratchServer();
    try {
      const r = await blockedVerification(scratch, () => scratch.stop());
      expectFailed(r, "verify");
      const row = await lastVerification();
      expect(row).toMatchObject({ success: false, message: expect.stringMatching(/could not finish: terminating connection due to administrator command/) });
    } finally {
      await scratch.stop();
    }
  });

  it("SIGTERM while a check waits on the scratch server stops it there, records the stop and drops the scratch database", async () => {
    const scratch = await startScratchServer();
    try {
      const r = await blockedVerification(scratch, async (child) => void child.kill("SIGTERM"));
      expectFailed(r, "verify", /stopped before it finished \(stopped by SIGTERM\)/);
      expect(await lastVerification()).toMatchObject({ success: false, message: expect.stringMatching(/stopped before it finished/) });
      expect(await scratch.query("SELECT datname FROM pg_database WHERE datname LIKE 'restore_verify_%'")).toEqual([]);
    } finally {
      await scratch.stop();
    }
  });
});
