// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- s3rver ships no types; the images tests declare the part they use
/// <reference path="../../images/test/s3rver.d.ts" />
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBackupRun, type BackupRun } from "../../images/src/backup/runs";
import { openBackupStore } from "../../images/src/backup/store";
import { clientBinDir, type ScratchServer, startMigratedServer } from "../../images/test/backup-pg";
import { BACKUP_METRICS, BACKUP_QUERY, backupRunQueries } from "./builders";
import { customQueryMetricNames } from "./restore-builders";

/**
 * The backup command as its CronJob runs it, against a real PostgreSQL (Debian's, as the image has) and a real
 * S3-compatible server (s3rver): every run leaves its row in backup_runs, and the exporter's query turns the rows
 * into the figures BackupStale reads.
 */
const images = path.join(__dirname, "..", "..", "images");
const BUCKET = "pitchey-backups";
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

let s3: S3rver;
let s3Dir: string;
let endpoint: string;
let db: ScratchServer;
let binDir: string;

beforeAll(async () => {
  binDir = clientBinDir();
  s3Dir = await mkdtemp(path.join(os.tmpdir(), "backup-runs-s3-"));
  s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET }] });
  endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
  db = await startMigratedServer();
  await db.query(`INSERT INTO container_jobs (type, status, payload) SELECT 'video', 'pending', jsonb_build_object('n', i) FROM generate_series(1, 20) AS i`);
}, 120_000);
afterAll(async () => {
  await s3?.close();
  await db?.stop();
  if (s3Dir) await rm(s3Dir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  lines: Record<string, unknown>[];
}

/** `node dist/cli/backup.js` as the CronJob runs it (from source, through tsx's loader), with only the given environment. */
function backup(env: Record<string, string>): Promise<Outcome> & { child: ChildProcess; output: () => string } {
  // node itself with tsx's loader, not the tsx CLI: the CLI relays SIGTERM with a 30 ms grace and then kills the child
  // outright on a busy machine, which is not what a Job's deadline does.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(images, "src/cli/backup.ts")], {
    cwd: path.join(__dirname, "..", ".."),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: os.tmpdir(),
      DATABASE_URL: db.url,
      BACKUP_STORE_URL: `s3://${BUCKET}/prod`,
      BACKUP_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      PG_BIN_DIR: binDir,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  const done = new Promise<Outcome>((resolve) =>
    child.once("close", (code) =>
      resolve({
        code,
        lines: out
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    ),
  );
  return Object.assign(done, { child, output: () => out });
}

interface Row extends Record<string, unknown> {
  id: string;
  success: boolean;
  location: string;
  backup_key: string | null;
  backup_bytes: string | null;
  tier_copies: string[];
  error: string | null;
  started: number;
  finished: number;
}
const rows = () =>
  db.query<Row>("SELECT *, EXTRACT(EPOCH FROM started_at)::float8 AS started, EXTRACT(EPOCH FROM finished_at)::float8 AS finished FROM backup_runs ORDER BY id");

/** The exporter's query as CloudNativePG runs it: one row, one gauge per column, named `cnpg_<query>_<column>`. */
async function scrape(): Promise<Record<string, number>> {
  const q = (backupRunQueries("postgres")[BACKUP_QUERY] as { query: string }).query;
  const result = await db.query<Record<string, string>>(q);
  expect(result).toHaveLength(1);
  return Object.fromEntries(Object.entries(result[0]!).map(([k, v]) => [`cnpg_${BACKUP_QUERY}_${k}`, Number(v)]));
}

describe("the backup job's record of its runs", () => {
  it("exports exactly the metrics named for BackupStale and the drill, and none-yet figures on an empty table", async () => {
    expect(customQueryMetricNames(backupRunQueries("jobs")).sort()).toEqual(Object.values(BACKUP_METRICS).sort());
    expect(BACKUP_METRICS.lastSuccess).toBe("cnpg_pitchey_backup_last_success_timestamp_seconds");
    expect(await scrape()).toEqual({
      [BACKUP_METRICS.lastSuccess]: 0,
      [BACKUP_METRICS.lastSuccessBytes]: 0,
      [BACKUP_METRICS.lastFailure]: 0,
      [BACKUP_METRICS.lastRun]: 0,
      [BACKUP_METRICS.lastRunSuccess]: 0,
      [BACKUP_METRICS.lastRunDuration]: 0,
    });
  });

  it("a successful run leaves a row with its dump, size and tier copies, and the exporter reports its time", async () => {
    const before = Date.now() / 1000;
    const r = await backup({});
    expect(r.lines.at(-1), JSON.stringify(r.lines.at(-1))).toMatchObject({ event: "backup.completed" });
    expect(r.code).toBe(0);
    const [row] = await rows();
    expect(row).toMatchObject({ success: true, location: `s3://${BUCKET}/prod/postgres/`, error: null });
    expect(row!.backup_key).toMatch(/^prod\/postgres\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.dump$/);
    expect(r.lines.at(-1)).toMatchObject({ key: row!.backup_key, recordedAs: Number(row!.id) });
    // The size recorded is the stored object's.
    const { store } = openBackupStore(`s3://${BUCKET}`, { endpoint, credentials });
    const stored = (await store.list("prod/postgres/")).find((o) => o.key === row!.backup_key)!;
    expect(Number(row!.backup_bytes)).toBe(stored.bytes);
    expect(stored.bytes).toBeGreaterThan(1000);
    const name = path.basename(row!.backup_key!);
    expect(row!.tier_copies).toEqual(["daily", "weekly", "monthly"].map((t) => `prod/postgres/${t}/${name}`));
    expect(row!.started).toBeGreaterThanOrEqual(Math.floor(before));
    expect(row!.finished).toBeGreaterThanOrEqual(row!.started);

    const m = await scrape();
    expect(m[BACKUP_METRICS.lastSuccess]).toBeCloseTo(row!.finished, 3);
    expect(m[BACKUP_METRICS.lastSuccessBytes]).toBe(stored.bytes);
    expect(m[BACKUP_METRICS.lastRun]).toBeCloseTo(row!.finished, 3);
    expect(m[BACKUP_METRICS.lastRunSuccess]).toBe(1);
    expect(m[BACKUP_METRICS.lastFailure]).toBe(0);
    expect(m[BACKUP_METRICS.lastRunDuration]).toBeCloseTo(row!.finished - row!.started, 3);
  }, 120_000);

  it("a failed run leaves a row saying what failed, and the last success stays the one before", async () => {
    const [ok] = await rows();
    // A dump larger than the pipes between pg_dump and the store hold, so pg_dump is still writing when the store refuses.
    await db.query(`INSERT INTO container_jobs (type, status, payload) SELECT 'video', 'completed', jsonb_build_object('n', i, 'pad', md5(i::text) || md5((i * 7)::text)) FROM generate_series(1, 20000) AS i`);
    const r = await backup({ BACKUP_STORE_URL: "s3://no-such-bucket/prod" });
    await db.query("DELETE FROM container_jobs WHERE status = 'completed'");
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "backup.failed" });
    const failed = (await rows()).at(-1)!;
    expect(failed).toMatchObject({ success: false, location: "s3://no-such-bucket/prod/postgres/", backup_key: null, backup_bytes: null, tier_copies: [] });
    expect(failed.error).toBe(r.lines.at(-1)!.err);
    expect(failed.error).toMatch(/NoSuchBucket|does not exist/i);

    const m = await scrape();
    expect(m[BACKUP_METRICS.lastSuccess]).toBeCloseTo(ok!.finished, 3);
    expect(m[BACKUP_METRICS.lastFailure]).toBeCloseTo(failed.finished, 3);
    expect(m[BACKUP_METRICS.lastRun]).toBeCloseTo(failed.finished, 3);
    expect(m[BACKUP_METRICS.lastRunSuccess]).toBe(0);
  }, 120_000);

  it("a run stopped by SIGTERM (the Job's deadline) mid-dump is recorded as failed", async () => {
    // A pg_dump that writes part of a dump and hangs, so the stop lands mid-dump every time.
    const fakeBin = await mkdtemp(path.join(os.tmpdir(), "backup-runs-bin-"));
    await writeFile(path.join(fakeBin, "pg_dump"), `#!/bin/sh\nif [ "$1" = "--version" ]; then exec "${binDir}/pg_dump" --version; fi\nhead -c 100000 /dev/urandom\nexec sleep 60\n`);
    await chmod(path.join(fakeBin, "pg_dump"), 0o755);
    const running = backup({ PG_BIN_DIR: fakeBin });
    // Once the dump has started, stop the run as Kubernetes would.
    const deadline = Date.now() + 20_000;
    while (!running.output().includes('"backup.started"')) {
      if (Date.now() > deadline) throw new Error(`the dump never started: ${running.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    running.child.kill("SIGTERM");
    const r = await running;
    await rm(fakeBin, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ event: "backup.failed", err: "backup stopped before it completed; nothing was stored" });
    const last = (await rows()).at(-1)!;
    expect(last).toMatchObject({ success: false, backup_key: null, error: "backup stopped before it completed; nothing was stored" });
  }, 120_000);

  it("runs that overlap each record their row; pruning keeps the table bounded and the newest success", async () => {
    const r = await Promise.all([backup({ BACKUP_RUNS_KEEP: "2" }), backup({ BACKUP_RUNS_KEEP: "2" })]);
    expect(r.map((x) => x.code)).toEqual([0, 0]);
    const ids = r.map((x) => x.lines.at(-1)!.recordedAs as number);
    const after = await rows();
    expect(after.map((x) => Number(x.id))).toEqual(expect.arrayContaining(ids));
    // One of the two may prune before it sees the other's row: at most one row over the bound, never fewer than it.
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeLessThanOrEqual(3);
    // A sequential run prunes to the bound.
    expect((await backup({ BACKUP_RUNS_KEEP: "2" })).code).toBe(0);
    expect(await rows()).toHaveLength(2);
  }, 180_000);

  it("keeps the newest successful run however many failures follow it", async () => {
    const newestOk = (await rows()).filter((x) => x.success).at(-1)!;
    const failure = (i: number): BackupRun => ({
      startedAt: new Date(Date.now() + i * 1000),
      finishedAt: new Date(Date.now() + i * 1000 + 500),
      success: false,
      location: `s3://${BUCKET}/prod/postgres/`,
      tierCopies: [],
      error: `failure ${i}`,
    });
    for (let i = 1; i <= 5; i++) expect(await recordBackupRun(db.url, failure(i), { keep: 2 })).toMatchObject({ recorded: true });
    const left = await rows();
    expect(left.map((x) => x.error)).toEqual([null, "failure 4", "failure 5"]);
    expect(left[0]!.id).toBe(newestOk.id);
    expect((await scrape())[BACKUP_METRICS.lastSuccess]).toBeCloseTo(newestOk.finished, 3);
  });

  it("on a read-only database (a replica) the run succeeds without a row; switched off by config, it writes none", async () => {
    const count = (await rows()).length;
    await db.query("ALTER DATABASE postgres SET default_transaction_read_only = on");
    try {
      const r = await backup({});
      expect(r.code).toBe(0);
      expect(r.lines.find((l) => l.event === "backup.record-skipped")?.reason).toMatch(/read-only/);
      expect(r.lines.at(-1)).toMatchObject({ event: "backup.completed" });
    } finally {
      await db.query("BEGIN READ WRITE; ALTER DATABASE postgres RESET default_transaction_read_only; COMMIT");
    }
    expect(await rows()).toHaveLength(count);
    const off = await backup({ BACKUP_RECORD_RUNS: "false" });
    expect(off.code).toBe(0);
    expect(off.lines.some((l) => String(l.event).startsWith("backup.record"))).toBe(false);
    expect(await rows()).toHaveLength(count);
  }, 120_000);
});
