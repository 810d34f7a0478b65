import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_TYPES } from "../runtime/types";
import { handlers } from "./index";
import { demoJobs } from "./samples";
import { makeContext } from "./test-context";
import { requireTools } from "../dev/tools";

let dir: string;
beforeAll(async () => {
  requireTools("ffmpeg", "ffprobe", "pdftotext", "pdfinfo");
  dir = await mkdtemp(join(tmpdir(), "demo-samples-"));
});
afterAll(() => dir && rm(dir, { recursive: true, force: true }));

describe("demo jobs", () => {
  it("registers a handler for every job type", () => {
    for (const t of JOB_TYPES) expect(handlers[t]?.type).toBe(t);
  });

  it("gives one valid job per type that its handler completes with the expected result", async () => {
    const jobs = await demoJobs(dir);
    expect(jobs.map((j) => j.type).sort()).toEqual([...JOB_TYPES].sort());
    const results: Record<string, any> = {};
    for (const job of jobs) {
      const handler = handlers[job.type]!;
      const payload = handler.payloadSchema.parse(job.payload);
      const ctx = await makeContext();
      try {
        await handler.warmup?.();
        results[job.type] = await handler.run(payload, ctx);
      } finally {
        await ctx.cleanup();
      }
    }
    expect(results.video.probe.durationSec).toBeCloseTo(3, 1);
    expect(results.video.thumbnails).toHaveLength(2);
    expect(results.video.transcode).toMatchObject({ height: 144, videoCodec: "h264", audioCodec: "aac" });
    expect(results.media.output.audio.codec).toBe("opus");
    expect(results.document.pageCount).toBe(2);
    expect(results.document.pages[0].preview).toContain("Quarterly report");
    expect(results.document.metadata.title).toBe("Sample report");
    expect(results.inference.labels).toEqual([0, 1, 2, 3]);
    expect(results.code).toMatchObject({ status: "ok", value: { sum: 129, sqrt2: 1.414 } });
    expect(results.code.console[0].text).toBe("first primes [2,3,5,7,11,13,17,19,23,29]");
  });
});
