import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupName, runBackup } from "../src/backup/backup";
import { openBackupStore } from "../src/backup/store";
import { archiveRowCounts, newestBackup } from "../src/backup/verify";
import { migrate } from "../src/db/migrate";
import { OUTPUT, render } from "../scripts/runbook-sql";
import { clientBinDir, type ScratchServer, startMigratedServer, startScratchServer } from "./backup-pg";

const root = path.join(__dirname, "..");
const tsx = path.join(root, "..", "node_modules", ".bin", "tsx");
const silent = pino({ level: "silent" });
const JOBS = 40;

let binDir: string;
/** The jobs database: what is backed up and where outcomes are recorded. */
let jobs: ScratchServer;
/** The scratch server, as the Job's sidecar provides it. */
let scratch: ScratchServer;
let work: string;
/** A store holding one real backup of `jobs`. */
let goodStore: string;
let goodKey: string;

interface Row extends Record<string, unknown> {
  success: boolean;
  location: string;
  backup_key: string | null;
  backup_taken_at: Date | null;
  restored_rows: string | null;
  message: string;
}

beforeAll(async () => {
  binDir = clientBinDir();
  [jobs, scratch] = await Promise.all([startMigratedServer(), startScratchServer()]);
  await jobs.query(
    `INSERT INTO container_jobs (type, status, payload, locked_by, lease_expires_at)
     SELECT (ARRAY['video','document','inference','media','code'])[1 + i % 5],
            CASE WHEN i % 4 = 0 THEN 'processing' ELSE 'pending' END, jsonb_build_object('n', i, 'text', E'line one\nline two'),
            CASE WHEN i % 4 = 0 THEN 'w/1' END, CASE WHEN i % 4 = 0 THEN now() + interval '1 minute' END
       FROM generate_series(1, $1::int) AS i`,
    [JOBS],
  );
  work = await mkdtemp(path.join(os.tmpdir(), "pitchey-verify-test-"));
  goodStore = path.join(work, "good");
  const { store, prefix } = openBackupStore(`file://${goodStore}`);
  const r = await runBackup({ databaseUrl: jobs.url, store, prefix, policy: { hourly: 24, daily: 7, weekly: 4, monthly: 12 }, pgBinDir: binDir, logger: silent });
  goodKey = r.key;
}, 120_000);
afterAll(async () => {
  await Promise.all([jobs?.stop(), scratch?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

/** The command the CronJob runs, with only the environment given. */
function verify(env: Record<string, string>): { code: number | null; lines: Array<Record<string, unknown>>; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, "src/cli/verify-restore.ts")], {
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), DATABASE_URL: jobs.url, SCRATCH_SERVER_URL: scratch.url, PG_BIN_DIR: binDir, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  const lines = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, lines, stderr: r.stderr };
}

const lastRow = async () => (await jobs.query<Row>("SELECT * FROM restore_verifications ORDER BY id DESC LIMIT 1"))[0]!;
const scratchDatabases = async () => (await scratch.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'restore_verify_%'")).map((r) => r.datname);

/** A store whose newest backup is `body`, dated after the good one. */
async function storeWith(name: string, body: Buffer | undefined): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(path.join(dir, "postgres"), { recursive: true });
  await copyFile(path.join(goodStore, goodKey), path.join(dir, goodKey));
  if (body) await writeFile(path.join(dir, "postgres", backupName(new Date(Date.now() + 3_600_000))), body);
  return dir;
}

describe("restore verification", () => {
  it("restores the newest real backup into the scratch server, checks it and records a success", async () => {
    const r = verify({ BACKUP_STORE_URL: `file://${goodStore}` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const done = r.lines.at(-1)!;
    expect(done).toMatchObject({ event: "verify.completed", success: true, key: goodKey });
    const row = await lastRow();
    expect(row).toMatchObject({ success: true, backup_key: goodKey, location: `file://${goodStore}/postgres/` });
    // Every job restored, and the migrations' own bookkeeping rows besides.
    expect(Number(row.restored_rows)).toBeGreaterThan(JOBS);
    expect(row.message).toMatch(/container_jobs constraints hold, \d+ runbook queries ran/);
    expect(row.backup_taken_at).toBeInstanceOf(Date);
    expect(await scratchDatabases()).toEqual([]);
  });

  it("an empty bucket fails, saying so, and records a failure", async () => {
    const dir = path.join(work, "empty");
    await mkdir(dir);
    const r = verify({ BACKUP_STORE_URL: `file://${dir}` });
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "verify.failed", success: false });
    const row = await lastRow();
    expect(row).toMatchObject({ success: false, backup_key: null });
    expect(row.message).toBe(`no backup found under file://${dir}/postgres/: the bucket is empty or the backups are not reaching it`);
  });

  it("a truncated newest backup fails as unreadable and records a failure", async () => {
    const good = await readFile(path.join(goodStore, goodKey));
    const dir = await storeWith("truncated", good.subarray(0, Math.floor(good.length * 0.7)));
    const r = verify({ BACKUP_STORE_URL: `file://${dir}` });
    expect(r.code).toBe(1);
    const row = await lastRow();
    expect(row.success).toBe(false);
    expect(row.backup_key).not.toBe(goodKey);
    expect(row.message).toMatch(/^backup postgres\/.+\.dump is unreadable \(corrupt or truncated\): pg_restore failed/);
    expect(await scratchDatabases()).toEqual([]);
  });

  it("a corrupted newest backup fails and records a failure", async () => {
    const bad = Buffer.from(await readFile(path.join(goodStore, goodKey)));
    // Garbage over the data blocks that follow the table of contents.
    for (let i = Math.floor(bad.length * 0.6); i < bad.length - 16; i += 7) bad[i] = (bad[i]! + 91) % 256;
    const dir = await storeWith("corrupted", bad);
    const r = verify({ BACKUP_STORE_URL: `file://${dir}` });
    expect(r.code).toBe(1);
    const row = await lastRow();
    expect(row.success).toBe(false);
    expect(row.message).toMatch(/^backup postgres\/.+\.dump is unreadable \(corrupt or truncated\): pg_restore failed/);
  });

  it("a restore whose container_jobs rows break a constraint fails naming it, and records a failure", async () => {
    // A database where a constraint was added NOT VALID over a row that breaks it: the dump restores cleanly.
    await jobs.query("CREATE DATABASE violating");
    const url = jobs.urlFor("violating");
    await migrate(url);
    await jobs.query(
      `ALTER TABLE container_jobs DROP CONSTRAINT container_jobs_lease_consistent;
       INSERT INTO container_jobs (type, status) VALUES ('code', 'processing');
       ALTER TABLE container_jobs ADD CONSTRAINT container_jobs_lease_consistent
         CHECK (status <> 'processing' OR (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)) NOT VALID;`,
      [],
      "violating",
    );
    const dir = path.join(work, "violating");
    const { store, prefix } = openBackupStore(`file://${dir}`);
    await runBackup({ databaseUrl: url, store, prefix, policy: { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, pgBinDir: binDir, logger: silent });
    const r = verify({ BACKUP_STORE_URL: `file://${dir}` });
    expect(r.code).toBe(1);
    const row = await lastRow();
    expect(row.success).toBe(false);
    expect(row.message).toMatch(/restored but fails its checks: 1 row\(s\) of container_jobs violate container_jobs_lease_consistent/);
    expect(await scratchDatabases()).toEqual([]);
  });

  it("refuses bad settings before touching anything, naming each variable", async () => {
    const before = (await jobs.query<{ n: string }>("SELECT count(*) AS n FROM restore_verifications"))[0]!.n;
    const missing = verify({ BACKUP_STORE_URL: "ftp://x", SCRATCH_SERVER_URL: "" });
    expect(missing.code).toBe(2);
    expect(String(missing.lines.at(-1)!.err)).toContain("SCRATCH_SERVER_URL must be a postgres:// URL");
    expect(String(missing.lines.at(-1)!.err)).toContain("BACKUP_STORE_URL must be file:///dir or s3://bucket[/prefix]");
    const same = verify({ BACKUP_STORE_URL: `file://${goodStore}`, SCRATCH_SERVER_URL: jobs.url });
    expect(same.code).toBe(2);
    expect(String(same.lines.at(-1)!.err)).toContain("SCRATCH_SERVER_URL names the jobs database's server");
    expect((await jobs.query<{ n: string }>("SELECT count(*) AS n FROM restore_verifications"))[0]!.n).toBe(before);
  });

  it("counts each table's rows from the archive itself", async () => {
    const counts = await archiveRowCounts(binDir, path.join(goodStore, goodKey));
    expect(counts.get("public.container_jobs")).toBe(JOBS);
    expect(counts.get("public.restore_verifications")).toBe(0);
  });

  it("finds the newest backup by the time its name records, ignoring other objects and empty ones", async () => {
    const dir = path.join(work, "listing");
    await mkdir(path.join(dir, "postgres"), { recursive: true });
    for (const [name, body] of [
      ["2026-11-28T01-00-00Z.dump", "x"],
      ["2026-11-28T03-00-00Z.dump", ""],
      ["2026-11-28T02-00-00Z.dump", "y"],
      ["zz-notes.txt", "n"],
    ] as const) {
      await writeFile(path.join(dir, "postgres", name), body);
    }
    const { store, prefix } = openBackupStore(`file://${dir}`);
    expect(await newestBackup(store, prefix)).toEqual({ key: "postgres/2026-11-28T02-00-00Z.dump", takenAt: new Date("2026-11-28T02:00:00Z"), bytes: 1 });
    // A tier's copy of the same dump does not displace it; a folder that is no tier is not looked into.
    await mkdir(path.join(dir, "postgres", "daily"), { recursive: true });
    await mkdir(path.join(dir, "postgres", "old"), { recursive: true });
    await writeFile(path.join(dir, "postgres", "daily", "2026-11-28T02-00-00Z.dump"), "y");
    await writeFile(path.join(dir, "postgres", "old", "2026-11-29T00-00-00Z.dump"), "z");
    expect((await newestBackup(store, prefix))?.key).toBe("postgres/2026-11-28T02-00-00Z.dump");
    // With the hourly tier gone, the newest tier copy is the newest restorable backup.
    await rm(path.join(dir, "postgres", "2026-11-28T02-00-00Z.dump"));
    await rm(path.join(dir, "postgres", "2026-11-28T01-00-00Z.dump"));
    expect((await newestBackup(store, prefix))?.key).toBe("postgres/daily/2026-11-28T02-00-00Z.dump");
    expect(await newestBackup(openBackupStore(`file://${path.join(work, "nowhere")}`).store, "")).toBeUndefined();
  });

  it("carries the runbooks' current SQL", async () => {
    expect(await readFile(OUTPUT, "utf8"), "run `npm run -w @pitchey/worker runbook-sql`").toBe(render());
  });
});
