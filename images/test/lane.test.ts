import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lane } from "../src/queue/lane";
import { isTransient } from "../src/queue/worker";
import { freePort, startTestDatabase, type TestDatabase } from "./pg";

let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.stop();
});

const pidOf = async (lane: Lane) => (await lane.query<{ pid: number }>({ text: "SELECT pg_backend_pid() AS pid" })).rows[0]!.pid;

describe("lane", () => {
  it("carries several statements at once on one session, in order", async () => {
    const lane = new Lane({ connectionString: db.url, application_name: "lane-test-order" });
    try {
      // Each sleeps, so sent one after another they would take 5 × 50 ms plus the round trips between them.
      const started = Date.now();
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => lane.query<{ n: number; pid: number; at: string }>({ text: "SELECT $1::int AS n, pg_backend_pid() AS pid, clock_timestamp()::text AS at FROM pg_sleep(0.05)", values: [n] })),
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const rows = results.map((r) => r.rows[0]!);
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(rows.map((r) => r.pid)).size).toBe(1);
      expect([...rows.map((r) => r.at)].sort()).toEqual(rows.map((r) => r.at));
      const sessions = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'lane-test-order'");
      expect(sessions[0]!.n).toBe(1);
    } finally {
      await lane.end();
    }
  });

  it("runs its session settings before anything sent through it, again on every new session", async () => {
    const lane = new Lane({ connectionString: db.url }, ["SET enable_sort = off", "SET work_mem = '7MB'"]);
    try {
      const show = async () =>
        (await lane.query<{ s: string; w: string; pid: number }>({
          text: "SELECT current_setting('enable_sort') AS s, current_setting('work_mem') AS w, pg_backend_pid() AS pid",
        })).rows[0]!;
      const first = await show();
      expect(first).toMatchObject({ s: "off", w: "7MB" });
      await db.query("SELECT pg_terminate_backend($1)", [first.pid]);
      await show().catch(() => undefined);
      const second = await show();
      expect(second.pid).not.toBe(first.pid);
      expect(second).toMatchObject({ s: "off", w: "7MB" });
    } finally {
      await lane.end();
    }
  });

  it("fails only the statement in error, each in its own transaction", async () => {
    await db.query("CREATE TABLE IF NOT EXISTS lane_writes (n int)");
    const lane = new Lane({ connectionString: db.url });
    try {
      const outcomes = await Promise.allSettled([
        lane.query({ text: "INSERT INTO lane_writes VALUES (1)" }),
        lane.query({ text: "INSERT INTO lane_writes VALUES (1 / 0)" }),
        lane.query({ text: "INSERT INTO lane_writes VALUES (3)" }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(((outcomes[1] as PromiseRejectedResult).reason as { code: string }).code).toBe("22012");
      expect((await db.query<{ n: number }>("SELECT n FROM lane_writes ORDER BY n")).map((r) => r.n)).toEqual([1, 3]);
    } finally {
      await lane.end();
    }
  });

  it("fails what is in flight when its session dies, as a transient error, and opens a new one for the next statement", async () => {
    const lane = new Lane({ connectionString: db.url });
    try {
      const first = await pidOf(lane);
      const failed = Promise.all([lane.query({ text: "SELECT pg_sleep(5)" }), lane.query({ text: "SELECT 1" })].map((p) => p.then(() => undefined, (e: unknown) => e)));
      await new Promise((r) => setTimeout(r, 100));
      await db.query("SELECT pg_terminate_backend($1)", [first]);
      for (const err of await failed) {
        expect(err).toBeInstanceOf(Error);
        expect(isTransient(err)).toBe(true);
      }
      const second = await pidOf(lane);
      expect(second).not.toBe(first);
    } finally {
      await lane.end();
    }
  });

  it("rejects, rather than hangs, when the server cannot be reached", async () => {
    const lane = new Lane({ connectionString: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/postgres`, connectionTimeoutMillis: 2000 });
    try {
      const err = await lane.query({ text: "SELECT 1" }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isTransient(err)).toBe(true);
    } finally {
      await lane.end();
    }
  });

  it("refuses statements once ended", async () => {
    const lane = new Lane({ connectionString: db.url });
    await pidOf(lane);
    await lane.end();
    await expect(lane.query({ text: "SELECT 1" })).rejects.toThrow(/lane closed/);
  });
});
