// Time from SIGKILL of the worker running a job to that job running on
// another worker, with default settings (30 s lease). Last line: JSON.
import { spawn } from "node:child_process";
import path from "node:path";
import { Pool } from "pg";
import { JobQueue } from "../queue/queue";
import { Worker } from "../queue/worker";
import { freePort } from "../dev/embedded-db";
import { BENCH_MARK, benchDatabase, intFromEnv, median, noopHandler, noStore, exitOnError } from "./common";

const ROUNDS = intFromEnv("BENCH_ROUNDS", 3);

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const queue = new JobQueue(db.pool);
  const results: number[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const port = await freePort();
      const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "recovery-worker.ts")], {
        env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), METRICS_PORT: String(await freePort()), LOG_LEVEL: "warn" },
        stdio: "inherit",
      });
      const exited = new Promise((r) => child.on("exit", r));
      const { job } = await queue.submit("code", { round, [BENCH_MARK]: true });
      await waitFor(async () => (await queue.get(job.id))?.status === "processing", 30_000);
      // Kill at a random point of the heartbeat cycle (5 s at the default lease).
      await new Promise((r) => setTimeout(r, Math.random() * 5000));
      let rescuedAt: bigint | undefined;
      let killedAt = 0n;
      const pool = new Pool({ connectionString: db.url, max: 8 });
      pool.on("error", () => undefined);
      const rescuer = new Worker({
        pool,
        databaseUrl: db.url,
        handler: noopHandler(),
        store: noStore,
        onClaim: (j) => {
          if (j.id === job.id) rescuedAt = process.hrtime.bigint();
        },
      });
      await rescuer.start();
      child.kill("SIGKILL");
      killedAt = process.hrtime.bigint();
      await exited;
      await waitFor(async () => rescuedAt !== undefined, 120_000);
      const seconds = Number(rescuedAt! - killedAt) / 1e9;
      results.push(seconds);
      console.log(`round ${round}: job running elsewhere ${seconds.toFixed(2)} s after SIGKILL`);
      await rescuer.stop();
      await pool.end();
    }
  } finally {
    await db.close();
  }
  console.log(JSON.stringify({ recovery_seconds_median: Number(median(results).toFixed(2)), recovery_seconds_max: Number(Math.max(...results).toFixed(2)), lease_seconds: 30 }));
}

main().catch(exitOnError);
