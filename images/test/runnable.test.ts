import { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../src/queue/queue";
import { startTestDatabase, type TestDatabase } from "./pg";

/**
 * KEDA scales on its postgresql trigger's query; workers claim with their own statement. Both must count the same
 * jobs, or pools scale out for work nobody can take (retries in back-off, scheduled jobs). The query below is the
 * one `queueDepthQuery` in components/processor/builders.ts renders (its test pins the string).
 */
const queueDepthQuery = (jobType: string) => `SELECT runnable_job_count('${jobType}')`;

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => undefined);
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

describe("runnable jobs: KEDA's query and the workers' claim agree", () => {
  it("counts exactly the jobs a claim takes now", async () => {
    const queue = new JobQueue(pool);
    const due = await Promise.all([1, 2, 3].map((n) => queue.submit("code", { n })));
    await queue.submit("code", { n: 4 }, { runAt: new Date(Date.now() + 3_600_000) });
    await queue.submit("document", { n: 5 });
    // A retry in back-off, a running job and a finished one.
    const { job: retried } = await queue.submit("code", { n: 6 }, { priority: -10 });
    const { job: running } = await queue.submit("code", { n: 7 }, { priority: -9 });
    const { job: done } = await queue.submit("code", { n: 8 }, { priority: -8 });
    const [r, , d] = await queue.claim("code", "w", "pod", 3, 30);
    expect([r!.id, d!.id]).toEqual([retried.id, done.id]);
    expect(await queue.fail(r!, "w", "transient", 0.1, 0, 60_000)).toBe("pending");
    expect(await queue.complete(d!, "w", null, 0.1, 0)).toBe(true);
    expect((await queue.get(running.id))?.status).toBe("processing");

    // KEDA reads the first column of the first row.
    const count = async (type: string) => Number(Object.values((await pool.query(queueDepthQuery(type))).rows[0]!)[0]);
    expect(await count("code")).toBe(3);
    expect(await count("document")).toBe(1);
    expect(await count("video")).toBe(0);

    const claimed = await queue.claim("code", "w2", "pod", 100, 30);
    expect(claimed.map((c) => c.id).sort()).toEqual(due.map((j) => j.job.id).sort());
    expect(await count("code")).toBe(0);
  });
});
