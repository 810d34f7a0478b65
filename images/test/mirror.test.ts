import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { mirroredAt, retainedDays, runMirror } from "../src/backup/mirror";
import { FileBackupStore, readAll, type BackupStore } from "../src/backup/store";

const silent = pino({ level: "silent" });
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function store(): Promise<FileBackupStore> {
  const d = await mkdtemp(path.join(os.tmpdir(), "mirror-"));
  dirs.push(d);
  return new FileBackupStore(d);
}
const put = (s: BackupStore, key: string, body: string) => s.put(key, Readable.from([Buffer.from(body)]), async () => undefined);
const text = async (s: BackupStore, key: string) => (await readAll(await s.get(key))).toString();

/** What the mirror says the results store held at the end of `day`, as `rel → content`. */
async function stateAt(target: BackupStore, day: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [rel, key] of await mirroredAt(target, "", day)) out[rel] = await text(target, key);
  return out;
}

describe("results store mirror", () => {
  it("copies new and changed objects, keeps what changed or vanished in the day's snapshot, and reproduces every kept day", async () => {
    const source = await store();
    const target = await store();
    const run = (day: string, retention = { daily: 30, weekly: 12 }) =>
      runMirror({ source, sourcePrefix: "jobs/", target, targetPrefix: "", retention, logger: silent, now: () => new Date(`${day}T03:00:00Z`) });
    const history: Record<string, Record<string, string>> = {};

    await put(source, "jobs/video/1/out.mp4", "v1");
    await put(source, "jobs/doc/2/out.txt", "d1");
    await put(source, "other/ignored.txt", "not results");
    expect(await run("2026-11-01")).toMatchObject({ copied: 2, unchanged: 0, preserved: 0, deleted: 0 });
    history["2026-11-01"] = { "video/1/out.mp4": "v1", "doc/2/out.txt": "d1" };

    await put(source, "jobs/video/1/out.mp4", "v1-longer");
    await source.delete("jobs/doc/2/out.txt");
    await put(source, "jobs/ai/3/out.json", "a1");
    expect(await run("2026-11-02")).toMatchObject({ copied: 2, unchanged: 0, preserved: 2 });
    history["2026-11-02"] = { "video/1/out.mp4": "v1-longer", "ai/3/out.json": "a1" };
    // A second run the same day changes nothing.
    expect(await run("2026-11-02")).toMatchObject({ copied: 0, unchanged: 2, preserved: 0 });

    await put(source, "jobs/ai/3/out.json", "a2-changed");
    expect(await run("2026-11-03")).toMatchObject({ copied: 1, unchanged: 1, preserved: 1 });
    history["2026-11-03"] = { "video/1/out.mp4": "v1-longer", "ai/3/out.json": "a2-changed" };

    expect(await text(target, "r2/current/ai/3/out.json")).toBe("a2-changed");
    expect(await text(target, "r2/daily/2026-11-02/doc/2/out.txt")).toBe("d1");
    // Objects created later also show in an earlier day's view; every object that existed then has its version then.
    for (const [day, want] of Object.entries(history)) expect(await stateAt(target, day), day).toMatchObject(want);
  });

  it("drops snapshot days past retention, merging their versions into the next kept day so kept days still restore", async () => {
    const source = await store();
    const target = await store();
    const retention = { daily: 2, weekly: 2 };
    const run = (day: string) => runMirror({ source, sourcePrefix: "", target, targetPrefix: "", retention, logger: silent, now: () => new Date(`${day}T03:00:00Z`) });
    const history: Record<string, Record<string, string>> = {};
    // One object rewritten every day of two weeks (its length changes each day), so each day's run leaves a snapshot.
    for (let d = 1; d <= 14; d++) {
      const day = `2026-11-${String(d).padStart(2, "0")}`;
      await put(source, "f.bin", "x".repeat(d));
      await run(day);
      history[day] = { "f.bin": "x".repeat(d) };
    }
    // Days that hold a snapshot: the 2nd to the 14th. Kept: the two newest (13th, 14th) and the newest of each of the
    // two newest ISO weeks (the 14th again, and Sunday 11-08), as the backup tiers count them.
    const days = (await target.list("r2/daily/")).map((o) => o.key.slice(9, 19));
    expect([...new Set(days)].sort()).toEqual(["2026-11-08", "2026-11-13", "2026-11-14"]);
    // The state at the end of each kept day is exact, though the days between were merged away.
    for (const day of ["2026-11-08", "2026-11-13", "2026-11-14"]) expect(await stateAt(target, day), day).toEqual(history[day]);
  });

  it("keeps the newest daily days and the newest day of each of the newest ISO weeks", () => {
    const days = ["2026-10-01", "2026-10-20", "2026-10-27", "2026-10-28", "2026-11-01", "2026-11-02"];
    // Monday 11-02 opens a week; 11-01 closes the week of 10-26; 10-20 is the newest of the week before.
    expect([...retainedDays(days, { daily: 1, weekly: 3 }, new Date("2026-11-02T12:00:00Z"))].sort()).toEqual(["2026-10-20", "2026-11-01", "2026-11-02"]);
  });
});
