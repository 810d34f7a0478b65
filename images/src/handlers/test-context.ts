import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import type { JobContext } from "../runtime/types";
import { createResultStore, LocalDirStore } from "../store";

export interface TestContext extends JobContext {
  readonly controller: AbortController;
  readonly store: LocalDirStore;
  readonly progressLog: Array<{ fraction: number; message?: string }>;
  cleanup(): Promise<void>;
}

/** A job context over a fresh local-directory store, as the runtime would build one. */
export async function makeContext(jobId = `job-${Math.random().toString(36).slice(2, 10)}`): Promise<TestContext> {
  const base = await mkdtemp(join(tmpdir(), "handler-test-"));
  const store = createResultStore({ RESULTS_STORE_URL: pathToFileURL(join(base, "results")).href }) as LocalDirStore;
  const controller = new AbortController();
  const progressLog: Array<{ fraction: number; message?: string }> = [];
  const workDir = await mkdtemp(join(base, "work-"));
  return {
    jobId,
    attempt: 1,
    signal: controller.signal,
    controller,
    progress: (fraction, message) => progressLog.push({ fraction, message }),
    progressLog,
    logger: pino({ level: "silent" }),
    store,
    workDir,
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}
