// End to end: embedded PostgreSQL, migrations, the five processors with their
// real handlers, sample jobs over HTTP, live progress, outcomes, clean shutdown.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Pool } from "pg";
import pino from "pino";
import { migrate } from "../db/migrate";
import { startEmbeddedPostgres } from "../dev/embedded-db";
import { MissingToolError, requireTools, useProjectTools } from "../dev/tools";
import { handlers } from "../handlers";
import { demoJobs } from "../handlers/samples";
import { createClient } from "../runtime/auth-admin";
import { Processor } from "../runtime/processor";
import { JOB_TYPES, type JobType, PROCESSOR_FOR_TYPE } from "../runtime/types";
import { createResultStore } from "../store";

const TERMINAL = new Set(["completed", "failed", "dead"]);
const DEADLINE_MS = 10 * 60_000;
const say = (line: string) => process.stdout.write(`${line}\n`);

interface Tracked {
  readonly type: JobType;
  readonly id: string;
  readonly port: number;
  last?: Record<string, unknown>;
}

function bar(fraction: number): string {
  const width = 20;
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

function summary(value: unknown, max = 160): string {
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

async function main(): Promise<void> {
  // The handlers run Debian tools by name; the set-up step (npm run demo runs it first) put them in .tools/bin.
  useProjectTools();
  requireTools("ffmpeg", "ffprobe", "pdftotext", "pdfinfo", "prlimit");
  const work = await mkdtemp(path.join(os.tmpdir(), "pitchey-demo-"));
  const logFile = path.join(work, "workers.log");
  const logger = pino({ level: process.env.LOG_LEVEL ?? "info" }, pino.destination({ dest: logFile, sync: false }));
  const processors: Processor[] = [];
  say("Starting an embedded PostgreSQL …");
  const db = await startEmbeddedPostgres({ fast: false });
  let ok = false;
  try {
    const migrated = await migrate(db.url);
    say(`Migrated: ${migrated.applied.join(", ")}`);
    // Job requests need an API key, as in the cluster: one client allowed every type (npm run -w @pitchey/worker api-clients).
    const admin = new Pool({ connectionString: db.url, max: 1 });
    const client = await createClient(admin, { name: "demo", scopes: JOB_TYPES }).finally(() => admin.end());
    const auth = { authorization: `Bearer ${client.key}` };
    say(`API client "demo" with key ${client.keyId} (scopes: ${JOB_TYPES.join(", ")})`);

    const storeEnv = { ...process.env, RESULTS_STORE_URL: pathToFileURL(path.join(work, "results")).href };
    const costPerSecond = Number(process.env.JOB_COST_PER_SECOND_USD ?? "0.0002");
    for (const type of JOB_TYPES) {
      if (!handlers[type]) continue;
      const p = new Processor({
        type,
        handlers,
        store: createResultStore(storeEnv),
        databaseUrl: db.url,
        port: 0,
        metricsPort: 0,
        host: "127.0.0.1",
        logger: logger.child({ processor: PROCESSOR_FOR_TYPE[type] }),
        defaultMetrics: processors.length === 0,
        // A short lease makes heartbeats, and so the progress shown here, frequent.
        worker: { concurrency: 2, leaseSeconds: 6, costPerSecondUsd: costPerSecond, jobTimeoutMs: 300_000 },
      });
      await p.start();
      processors.push(p);
      say(`  ${PROCESSOR_FOR_TYPE[type].padEnd(19)} http://127.0.0.1:${p.port}  (/api/${type}/jobs, /ready; /metrics on :${p.metricsPort})`);
    }
    const portFor = new Map(processors.map((p) => [p.worker.type, p.port]));
    const anonymous = await fetch(`http://127.0.0.1:${processors[0]!.port}/api/${processors[0]!.worker.type}/jobs`, { method: "POST", body: "{}" });
    say(`  a request without the key → ${anonymous.status} ${((await anonymous.json()) as { error: string }).error}`);

    say("Generating sample inputs …");
    // Each sample three times, so the two slots per processor visibly queue work.
    const samples = (await demoJobs(path.join(work, "samples"))).flatMap((j) => [j, j, j]);
    const tracked: Tracked[] = [];
    for (const [i, s] of samples.entries()) {
      const port = portFor.get(s.type);
      if (!port) throw new Error(`No processor for ${s.type}`);
      const body = JSON.stringify({ payload: s.payload, idempotencyKey: `demo-${i}` });
      const post = () =>
        fetch(`http://127.0.0.1:${port}/api/${s.type}/jobs`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body });
      const res = await post();
      const job = (await res.json()) as { id: string; status: string };
      if (res.status !== 202) throw new Error(`Submitting ${s.type} job failed: ${res.status} ${JSON.stringify(job)}`);
      tracked.push({ type: s.type, id: job.id, port });
      if (i === 0) {
        const again = await post();
        const same = (await again.json()) as { id: string };
        say(`  resubmitted with the same idempotency key → ${again.status}, same job: ${same.id === job.id}`);
      }
    }
    say(`Submitted ${tracked.length} jobs. Progress (heartbeats update it every second):`);

    const started = Date.now();
    let lastFrame = "";
    for (;;) {
      await Promise.all(
        tracked.map(async (t) => {
          const res = await fetch(`http://127.0.0.1:${t.port}/api/${t.type}/jobs/${t.id}`, { headers: auth });
          t.last = (await res.json()) as Record<string, unknown>;
        }),
      );
      const lines = tracked.map((t) => {
        const j = t.last!;
        const done = j.status === "completed";
        const fraction = done ? 1 : typeof j.progress === "number" ? j.progress : 0;
        const msg = typeof j.progressMessage === "string" && !TERMINAL.has(String(j.status)) ? ` ${j.progressMessage}` : "";
        return `  ${t.type.padEnd(9)} ${t.id.slice(0, 8)} ${bar(fraction)} ${String(j.status).padEnd(10)} try ${j.attempts}${msg}`;
      });
      const frame = lines.join("\n");
      if (frame !== lastFrame) {
        const elapsed = ((Date.now() - started) / 1000).toFixed(1);
        say(`t=${elapsed}s\n${frame}`);
        lastFrame = frame;
      }
      if (tracked.every((t) => TERMINAL.has(String(t.last!.status)))) break;
      if (Date.now() - started > DEADLINE_MS) throw new Error("Jobs did not finish within 10 minutes");
      await new Promise((r) => setTimeout(r, 500));
    }

    say("\nOutcomes:");
    const { rows } = await processors[0]!.queue.pool.query<{
      id: string;
      processing_time_seconds: number | null;
      estimated_cost_usd: number | null;
      container_id: string | null;
    }>(
      "SELECT id, processing_time_seconds::float8 AS processing_time_seconds, estimated_cost_usd::float8 AS estimated_cost_usd, container_id FROM container_jobs",
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const t of tracked) {
      const j = t.last!;
      const row = byId.get(t.id);
      const seconds = row?.processing_time_seconds?.toFixed(2) ?? "?";
      const cost = row?.estimated_cost_usd?.toFixed(6) ?? "?";
      say(`  ${PROCESSOR_FOR_TYPE[t.type]} ${t.id} ${j.status} after ${j.attempts} attempt(s), ${seconds}s, $${cost}`);
      say(`    ${j.status === "completed" ? `result ${summary(j.result)}` : `error ${String(j.error)}`}`);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${processors[0]!.metricsPort}/metrics`)).text();
    say("\nFrom /metrics of the first processor:");
    for (const line of metrics.split("\n").filter((l) => /^(jobs_total|job_queue_depth|container_health|job_cost_usd)\{/.test(l))) {
      say(`  ${line}`);
    }
    ok = tracked.every((t) => t.last!.status === "completed");
    const kept = process.env.DEMO_KEEP === "1" ? logFile : "removed on exit; DEMO_KEEP=1 keeps them";
    say(`\n${tracked.filter((t) => t.last!.status === "completed").length}/${tracked.length} jobs completed. Worker logs: ${kept}`);
  } finally {
    say("Shutting down: draining processors, stopping PostgreSQL …");
    await Promise.all(processors.map((p) => p.stop(10_000)));
    await db.stop();
    logger.flush();
    if (process.env.DEMO_KEEP !== "1") await rm(work, { recursive: true, force: true });
    say("Done.");
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  // A missing tool is a set-up problem, said in one line; anything else is a bug worth its stack.
  if (err instanceof MissingToolError || (err instanceof Error && err.message.startsWith("missing tools:"))) console.error(`demo: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
