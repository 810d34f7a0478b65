import { execFile, spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../src/backup/backup";
import { parseBackupEnv } from "../src/backup/env";
import { FileBackupStore, openBackupStore, readAll } from "../src/backup/store";
import { startEmbeddedPostgres } from "../src/dev/embedded-db";
import { clientBinDir, majorVersion, type ScratchServer, startMigratedServer } from "./backup-pg";

const run = promisify(execFile);
const root = path.join(__dirname, "..");
const tsx = path.join(root, "..", "node_modules", ".bin", "tsx");
const silent = pino({ level: "silent" });
const JOBS = 25;

let binDir: string;
let server: ScratchServer;
let scratch: string;

beforeAll(async () => {
  binDir = clientBinDir();
  server = await startMigratedServer();
  await server.query(
    `INSERT INTO container_jobs (type, status, payload)
     SELECT (ARRAY['video','document','inference','media','code'])[1 + i % 5], 'pending', jsonb_build_object('n', i)
       FROM generate_series(1, $1::int) AS i`,
    [JOBS],
  );
  scratch = await mkdtemp(path.join(os.tmpdir(), "pitchey-backup-test-"));
});
afterAll(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function newStoreDir(): Promise<string> {
  return mkdtemp(path.join(scratch, "store-"));
}

/** Runs the command as the CronJob does, with only the given environment. */
function cli(env: Record<string, string>): { code: number | null; lines: Array<Record<string, unknown>>; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, "src/cli/backup.ts")], {
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  const lines = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, lines, stderr: r.stderr };
}

const listFiles = async (dir: string) => (await readdir(dir, { recursive: true })).map(String).sort();

/** Fake-dated backups: every hour on the hour for `days` days, ending at `last`. */
async function seed(dir: string, last: string, days: number): Promise<string[]> {
  await mkdir(path.join(dir, "postgres"), { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < days * 24; i++) {
    const name = `${new Date(new Date(last).getTime() - i * 3_600_000).toISOString().slice(0, 19).replace(/:/g, "-")}Z.dump`;
    await writeFile(path.join(dir, "postgres", name), "old");
    names.push(`postgres/${name}`);
  }
  await writeFile(path.join(dir, "postgres", "README.txt"), "not a backup");
  return names.sort();
}

describe("db backup", () => {
  it("dumps to the store, verifies, and the dump restores into a fresh database", async () => {
    const dir = await newStoreDir();
    const r = cli({ DATABASE_URL: server.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: binDir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const done = r.lines.at(-1)!;
    // The first backup of a store is also the first of its day, week and month: one copy in each tier's folder.
    expect(done).toMatchObject({ event: "backup.completed", kept: 4, deleted: 0 });
    expect(done.key).toMatch(/^postgres\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.dump$/);
    expect(done.bytes).toBeGreaterThan(1000);
    expect(typeof done.seconds).toBe("number");
    const name = path.basename(done.key as string);
    expect(done.promoted).toEqual([`postgres/daily/${name}`, `postgres/weekly/${name}`, `postgres/monthly/${name}`]);
    expect(await listFiles(path.join(dir, "postgres"))).toEqual([name, "daily", `daily/${name}`, "monthly", `monthly/${name}`, "weekly", `weekly/${name}`].sort());
    for (const tier of ["daily", "weekly", "monthly"]) expect(await readFile(path.join(dir, "postgres", tier, name))).toEqual(await readFile(path.join(dir, done.key as string)));

    await server.query("CREATE DATABASE restored");
    const dump = path.join(dir, done.key as string);
    await run(path.join(binDir, "pg_restore"), ["--exit-on-error", "--no-owner", `--dbname=${server.urlFor("restored")}`, dump]);
    const [original] = await server.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs");
    const [restored] = await server.query<{ n: string }>("SELECT count(*) AS n FROM container_jobs", [], "restored");
    expect(Number(original!.n)).toBe(JOBS);
    expect(restored!.n).toBe(original!.n);
    const [payloads] = await server.query<{ s: string }>("SELECT sum((payload->>'n')::int) AS s FROM container_jobs", [], "restored");
    expect(Number(payloads!.s)).toBe((JOBS * (JOBS + 1)) / 2);
  });

  it("sorts a store of untiered backups into tier folders and prunes each tier to exactly its count", async () => {
    const dir = await newStoreDir();
    const seeded = await seed(dir, "2026-11-28T00:00:00Z", 40);
    const { store, prefix } = openBackupStore(`file://${dir}`);
    const result = await runBackup({
      databaseUrl: server.url,
      store,
      prefix,
      policy: { hourly: 3, daily: 2, weekly: 2, monthly: 2 },
      pgBinDir: binDir,
      logger: silent,
      now: () => new Date("2026-11-28T01:00:30Z"),
    });
    expect(result.key).toBe("postgres/2026-11-28T01-00-30Z.dump");
    // Hourly, at the top: the new one, 00:00 and 23:00 the day before. Each other tier holds the first backup of each
    // of its newest periods: days 11-27 and 11-28; ISO weeks from Monday 11-16 and 11-23; October (the seed's first
    // backup, 10-19 01:00) and November. Only what is kept is copied.
    const files = await listFiles(path.join(dir, "postgres"));
    expect(files.filter((f) => !f.includes("/"))).toEqual(["2026-11-27T23-00-00Z.dump", "2026-11-28T00-00-00Z.dump", "2026-11-28T01-00-30Z.dump", "README.txt", "daily", "monthly", "weekly"]);
    expect(files.filter((f) => f.includes("/"))).toEqual([
      "daily/2026-11-27T00-00-00Z.dump",
      "daily/2026-11-28T00-00-00Z.dump",
      "monthly/2026-10-19T01-00-00Z.dump",
      "monthly/2026-11-01T00-00-00Z.dump",
      "weekly/2026-11-16T00-00-00Z.dump",
      "weekly/2026-11-23T00-00-00Z.dump",
    ]);
    expect(result).toMatchObject({ kept: 9, deleted: seeded.length - 2 });
    expect(result.promoted).toHaveLength(6);
    // The survivor under the new name is the real dump, not a seeded stand-in.
    const body = await readAll(await store.get(result.key));
    expect(body.subarray(0, 5).toString()).toBe("PGDMP");

    // The next hour: a new day has not begun, so nothing is copied; the hourly tier rolls on by one.
    const next = await runBackup({
      databaseUrl: server.url,
      store,
      prefix,
      policy: { hourly: 3, daily: 2, weekly: 2, monthly: 2 },
      pgBinDir: binDir,
      logger: silent,
      now: () => new Date("2026-11-28T02:00:10Z"),
    });
    expect(next).toMatchObject({ promoted: [], kept: 9, deleted: 1 });
    expect(await listFiles(path.join(dir, "postgres", "daily"))).toEqual(["2026-11-27T00-00-00Z.dump", "2026-11-28T00-00-00Z.dump"]);
  });

  it("a tier copy that cannot be deleted yet (locked) is kept and reported, and the run still succeeds", async () => {
    const dir = await newStoreDir();
    const { store, prefix } = openBackupStore(`file://${dir}`);
    const policy = { hourly: 1, daily: 1, weekly: 1, monthly: 1 };
    await runBackup({ databaseUrl: server.url, store, prefix, policy, pgBinDir: binDir, logger: silent, now: () => new Date("2026-11-27T05:00:00Z") });
    const refusing = Object.assign(Object.create(store) as typeof store, {
      delete: async (key: string) => {
        if (key.startsWith("postgres/daily/")) throw new Error("AccessDenied: object is locked");
        return store.delete(key);
      },
    });
    const r = await runBackup({ databaseUrl: server.url, store: refusing, prefix, policy, pgBinDir: binDir, logger: silent, now: () => new Date("2026-11-28T05:00:00Z") });
    // The old hourly went; the old daily copy stayed behind its lock.
    expect(r).toMatchObject({ deleted: 1, promoted: ["postgres/daily/2026-11-28T05-00-00Z.dump"] });
    expect(await listFiles(path.join(dir, "postgres", "daily"))).toEqual(["2026-11-27T05-00-00Z.dump", "2026-11-28T05-00-00Z.dump"]);
  });

  it("a dump that fails part-way leaves no object behind and prunes nothing", async () => {
    const dir = await newStoreDir();
    const seeded = await seed(dir, "2026-11-28T00:00:00Z", 3);
    // A pg_dump that writes half an archive and then fails, as one does when the connection drops.
    const fakeBin = await mkdtemp(path.join(scratch, "bin-"));
    await writeFile(
      path.join(fakeBin, "pg_dump"),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${binDir}/pg_dump" --version; fi\nhead -c 200000 /dev/urandom\necho "pg_dump: error: connection lost" >&2\nexit 1\n`,
    );
    await chmod(path.join(fakeBin, "pg_dump"), 0o755);
    const r = cli({ DATABASE_URL: server.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: fakeBin, BACKUP_KEEP_HOURLY: "1", BACKUP_KEEP_DAILY: "1", BACKUP_KEEP_WEEKLY: "1", BACKUP_KEEP_MONTHLY: "1" });
    expect(r.code).toBe(1);
    const failed = r.lines.at(-1)!;
    expect(failed.event).toBe("backup.failed");
    expect(failed.err).toMatch(/pg_dump failed \(exit 1\): pg_dump: error: connection lost/);
    expect(await listFiles(path.join(dir, "postgres"))).toEqual([...seeded.map((k) => path.basename(k)), "README.txt"].sort());
  });

  it("a store that refuses before reading a large dump fails the run instead of leaving it waiting on pg_dump", async () => {
    // pg_dump writes more than the pipes between it and the store hold, so it is still writing when the store refuses.
    const fakeBin = await mkdtemp(path.join(scratch, "bin-"));
    await writeFile(path.join(fakeBin, "pg_dump"), `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${binDir}/pg_dump" --version; fi\nexec head -c 2000000 /dev/urandom\n`);
    await chmod(path.join(fakeBin, "pg_dump"), 0o755);
    const { store, prefix } = openBackupStore(`file://${await newStoreDir()}`);
    const refusing = Object.assign(Object.create(store) as typeof store, {
      put: async () => {
        await new Promise((r) => setTimeout(r, 200));
        throw new Error("NoSuchBucket: the bucket does not exist");
      },
    });
    const outcome = runBackup({ databaseUrl: server.url, store: refusing, prefix, policy: { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, pgBinDir: fakeBin, logger: silent });
    await expect(outcome).rejects.toThrow(/^storing the dump failed: NoSuchBucket: the bucket does not exist/);
  });

  it("stops on SIGTERM mid-dump: pg_dump is killed, the partial upload removed, nothing pruned", async () => {
    const dir = await newStoreDir();
    const seeded = await seed(dir, "2026-11-28T00:00:00Z", 2);
    const fakeBin = await mkdtemp(path.join(scratch, "bin-"));
    await writeFile(
      path.join(fakeBin, "pg_dump"),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${binDir}/pg_dump" --version; fi\nhead -c 100000 /dev/urandom\nexec sleep 60\n`,
    );
    await chmod(path.join(fakeBin, "pg_dump"), 0o755);
    // node with tsx's loader rather than the tsx CLI, whose signal relay kills a child that is slow to acknowledge
    // SIGTERM (a busy machine) instead of letting it stop as a Job's pod would.
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/cli/backup.ts")], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), DATABASE_URL: server.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: fakeBin, BACKUP_KEEP_HOURLY: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    // Wait until the dump is being written, then stop the run as Kubernetes would.
    const deadline = Date.now() + 20_000;
    while (!(await listFiles(path.join(dir, "postgres"))).some((f) => f.includes(".partial-"))) {
      if (Date.now() > deadline) throw new Error(`the dump never started: ${stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ event: "backup.failed", err: "backup stopped before it completed; nothing was stored" });
    expect(await listFiles(path.join(dir, "postgres"))).toEqual([...seeded.map((k) => path.basename(k)), "README.txt"].sort());
  });

  it("a bad DATABASE_URL fails with a clear message, stores nothing and prunes nothing", async () => {
    const dir = await newStoreDir();
    const seeded = await seed(dir, "2026-11-28T00:00:00Z", 2);
    const r = cli({ DATABASE_URL: "postgres://postgres:secret-pw@127.0.0.1:1/postgres", BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: binDir, BACKUP_KEEP_HOURLY: "1" });
    expect(r.code).toBe(1);
    const failed = r.lines.at(-1)!;
    expect(failed).toMatchObject({ event: "backup.failed", level: 50 });
    expect(failed.err).toMatch(/cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres/);
    expect(JSON.stringify(r.lines)).not.toContain("secret-pw");
    expect(await listFiles(path.join(dir, "postgres"))).toEqual([...seeded.map((k) => path.basename(k)), "README.txt"].sort());
  });

  it("refuses a server newer than its pg_dump before touching the store", async () => {
    const dir = await newStoreDir();
    const fakeBin = await mkdtemp(path.join(scratch, "bin-"));
    await writeFile(path.join(fakeBin, "pg_dump"), `#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n`);
    await chmod(path.join(fakeBin, "pg_dump"), 0o755);
    const server_ = majorVersion(path.join(binDir, "pg_dump"));
    const { store, prefix } = openBackupStore(`file://${dir}`);
    await expect(runBackup({ databaseUrl: server.url, store, prefix, policy: { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, pgBinDir: fakeBin, logger: silent })).rejects.toThrow(
      `pg_dump 9 cannot dump a PostgreSQL ${server_} server; point PG_BIN_DIR at client tools of version ${server_} or newer`,
    );
    expect(await listFiles(dir)).toEqual([]);
  });

  it("a backup that does not verify is removed and nothing is pruned", async () => {
    const dir = await newStoreDir();
    const seeded = await seed(dir, "2026-11-28T00:00:00Z", 2);
    const { store, prefix } = openBackupStore(`file://${dir}`);
    await expect(
      runBackup({
        databaseUrl: server.url,
        store,
        prefix,
        policy: { hourly: 1, daily: 1, weekly: 1, monthly: 1 },
        pgBinDir: binDir,
        logger: silent,
        requiredTable: "no_such_table",
      }),
    ).rejects.toThrow(/does not list table no_such_table/);
    expect(await listFiles(path.join(dir, "postgres"))).toEqual([...seeded.map((k) => path.basename(k)), "README.txt"].sort());
  });

  it("refuses the embedded PostgreSQL when pg_dump is older than it", async () => {
    const client = majorVersion(path.join(binDir, "pg_dump"));
    const embedded = await startEmbeddedPostgres({ fast: true });
    try {
      const c = new Client({ connectionString: embedded.url });
      await c.connect();
      const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v").finally(() => c.end());
      const serverMajor = Math.floor(Number(rows[0]!.v) / 10_000);
      const dir = await newStoreDir();
      const r = cli({ DATABASE_URL: embedded.url, BACKUP_STORE_URL: `file://${dir}`, PG_BIN_DIR: binDir });
      // Whichever is newer, the outcome is decided by the versions and nothing else.
      if (client >= serverMajor) {
        expect(r.code).toBe(0);
      } else {
        expect(r.code).toBe(1);
        expect(String(r.lines.at(-1)!.err)).toBe(
          `pg_dump ${client} cannot dump a PostgreSQL ${serverMajor} server; point PG_BIN_DIR at client tools of version ${serverMajor} or newer`,
        );
        expect(await listFiles(dir)).toEqual([]);
      }
    } finally {
      await embedded.stop();
    }
  });

  it("names every bad environment variable and exits 2", () => {
    const r = cli({ BACKUP_STORE_URL: "ftp://x", BACKUP_KEEP_DAILY: "0", BACKUP_KEEP_WEEKLY: "2.5", PG_BIN_DIR: "relative/bin" });
    expect(r.code).toBe(2);
    const msg = String(r.lines.at(-1)!.err);
    expect(msg).toMatch(/DATABASE_URL is required/);
    expect(msg).toMatch(/BACKUP_STORE_URL must be file:\/\/\/dir or s3:\/\/bucket/);
    expect(msg).toMatch(/BACKUP_KEEP_DAILY must be a positive integer, got "0"/);
    expect(msg).toMatch(/BACKUP_KEEP_WEEKLY must be a positive integer, got "2.5"/);
    expect(msg).toMatch(/PG_BIN_DIR must be an absolute directory/);
    expect(msg).not.toMatch(/BACKUP_KEEP_HOURLY|BACKUP_KEEP_MONTHLY/);
  });

  it("reads defaults and the S3 settings from the environment", () => {
    const env = parseBackupEnv({ DATABASE_URL: "postgres://u:p@db:5432/jobs", BACKUP_STORE_URL: "s3://pitchey-backups", BACKUP_S3_ENDPOINT: "https://acct.r2.example", BACKUP_KEEP_MONTHLY: "24" });
    expect(env.policy).toEqual({ hourly: 24, daily: 7, weekly: 4, monthly: 24 });
    expect(env.pgBinDir).toBeUndefined();
    const { store, prefix } = openBackupStore(env.storeUrl, env.s3);
    expect(prefix).toBe("");
    expect(store.url("postgres/x.dump")).toBe("s3://pitchey-backups/postgres/x.dump");
    expect(openBackupStore("s3://pitchey-backups/prod/").prefix).toBe("prod/");
    expect(openBackupStore("file:///var/backups").store).toBeInstanceOf(FileBackupStore);
  });
});
