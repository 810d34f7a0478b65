import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../../models/build-model";
import {
  BATCH_SIZE,
  createInferenceHandler,
  DEFAULT_MODEL_PATH,
  gpuPresent,
  inferencePayloadSchema,
  ModelRunner,
  sessionOptions,
} from "./inference";
import { makeContext, type TestContext } from "./test-context";

/** The network's definition restated independently: block means, ReLU, group means, softmax. */
function reference(row: number[]): { probabilities: number[]; label: number } {
  const hidden = Array.from({ length: 16 }, (_, j) => Math.max(0, row.slice(j * 32, j * 32 + 32).reduce((a, b) => a + b, 0) / 32));
  const logits = Array.from({ length: 4 }, (_, k) => hidden.slice(k * 4, k * 4 + 4).reduce((a, b) => a + b, 0) / 4);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return { probabilities: exps.map((e) => e / sum), label: logits.indexOf(max) };
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const handler = createInferenceHandler();
let ctx: TestContext;
beforeAll(async () => {
  ctx = await makeContext();
  await handler.warmup!();
});
afterAll(async () => {
  await handler.close!();
  await ctx.cleanup();
});

describe("inference handler", () => {
  it("ships a model that its build script reproduces byte for byte", async () => {
    expect((await readFile(DEFAULT_MODEL_PATH)).equals(buildModel())).toBe(true);
  });

  it("uses the playbook's session options and the CPU provider without a GPU", () => {
    expect(sessionOptions("cpu")).toMatchObject({
      graphOptimizationLevel: "all",
      enableCpuMemArena: true,
      enableMemPattern: true,
      executionMode: "parallel",
      executionProviders: ["cpu"],
    });
    expect(sessionOptions("cuda").executionProviders?.[0]).toMatchObject({ name: "cuda", deviceId: 0 });
    expect(sessionOptions("cuda").executionProviders?.[1]).toBe("cpu");
    expect(gpuPresent({ INFERENCE_DEVICE: "cpu" })).toBe(false);
    expect(gpuPresent({ INFERENCE_DEVICE: "cuda" })).toBe(true);
    expect(handler.runner.provider).toBe(gpuPresent() ? expect.stringMatching(/cuda|cpu/) : "cpu");
  });

  it("falls back to the CPU provider when CUDA cannot load", async () => {
    const saved = process.env.INFERENCE_DEVICE;
    process.env.INFERENCE_DEVICE = "cuda";
    const notes: string[] = [];
    const runner = new ModelRunner(DEFAULT_MODEL_PATH, (m) => notes.push(m));
    try {
      await runner.warmup();
      if (runner.provider === "cpu") expect(notes.join("\n")).toMatch(/CUDA execution provider unavailable, using CPU/);
      else expect(notes).toEqual([]);
      const { labels } = await runner.infer(Float32Array.from({ length: 512 }, (_, i) => (i < 128 ? 1 : 0)), new AbortController().signal);
      expect(labels).toEqual([0]);
    } finally {
      await runner.close();
      if (saved === undefined) delete process.env.INFERENCE_DEVICE;
      else process.env.INFERENCE_DEVICE = saved;
    }
  });

  it("classifies one-hot block inputs into their quarter with the expected probabilities", async () => {
    const inputs = [0, 1, 2, 3].map((q) => Array.from({ length: 512 }, (_, i) => (Math.floor(i / 128) === q ? 2 : 0)));
    const r = await handler.run(inferencePayloadSchema.parse({ inputs }), ctx);
    expect(r.labels).toEqual([0, 1, 2, 3]);
    // Logits are [2, 0, 0, 0] in some order: softmax gives e² / (e² + 3) for the winner.
    const winner = Math.exp(2) / (Math.exp(2) + 3);
    r.probabilities!.forEach((p, q) => {
      expect(p[q]).toBeCloseTo(winner, 5);
      p.filter((_, k) => k !== q).forEach((v) => expect(v).toBeCloseTo(1 / (Math.exp(2) + 3), 5));
    });
  });

  it("batches 100 random rows by 32 and matches the reference on every row", async () => {
    const rand = seeded(7);
    const inputs = Array.from({ length: 100 }, () => Array.from({ length: 512 }, () => rand() * 4 - 2));
    const r = await handler.run(inferencePayloadSchema.parse({ inputs }), ctx);
    expect(r).toMatchObject({ rows: 100, batches: 4, batchSize: BATCH_SIZE });
    inputs.forEach((row, i) => {
      const ref = reference(row);
      expect(r.labels[i]).toBe(ref.label);
      ref.probabilities.forEach((p, k) => expect(r.probabilities![i][k]).toBeCloseTo(p, 5));
    });
    const stored = JSON.parse(await readFile(ctx.store.pathOf(r.resultUrl), "utf8"));
    expect(stored.labels).toEqual(r.labels);
    expect(ctx.progressLog.filter((p) => p.message?.startsWith("batch")).map((p) => p.message)).toEqual(
      expect.arrayContaining(["batch 1/4", "batch 4/4"]),
    );
  });

  it("reads rows from a raw float32 file and from a JSON file by URL", async () => {
    const rows = [3, 1].map((q) => Array.from({ length: 512 }, (_, i) => (Math.floor(i / 128) === q ? 1 : -1)));
    const f32 = join(ctx.workDir, "rows.f32");
    const buf = Buffer.alloc(rows.length * 512 * 4);
    rows.flat().forEach((v, i) => buf.writeFloatLE(v, i * 4));
    await writeFile(f32, buf);
    const json = join(ctx.workDir, "rows.json");
    await writeFile(json, JSON.stringify(rows));
    for (const file of [f32, json]) {
      const r = await handler.run(inferencePayloadSchema.parse({ input: pathToFileURL(file).href }), ctx);
      expect(r.labels).toEqual([3, 1]);
    }
    await writeFile(f32, Buffer.alloc(100));
    await expect(handler.run(inferencePayloadSchema.parse({ input: pathToFileURL(f32).href }), ctx)).rejects.toThrow(/multiple of 2048 bytes/);
  });

  it("validates shapes at submission", () => {
    expect(inferencePayloadSchema.safeParse({ inputs: [[1, 2, 3]] }).success).toBe(false);
    expect(inferencePayloadSchema.safeParse({}).success).toBe(false);
    expect(inferencePayloadSchema.safeParse({ inputs: [Array(512).fill(0)], input: "https://x/y.f32" }).success).toBe(false);
  });

  it("stops between batches when the job is aborted", async () => {
    const inputs = Array.from({ length: 320 }, () => Array(512).fill(0.5));
    const c = await makeContext();
    try {
      const run = handler.run(inferencePayloadSchema.parse({ inputs }), {
        ...c,
        progress: (f, m) => {
          c.progress(f, m);
          if (m === "batch 2/10") c.controller.abort(new Error("deadline passed"));
        },
      });
      await expect(run).rejects.toThrow(/deadline passed/);
      expect(c.progressLog.some((p) => p.message === "batch 10/10")).toBe(false);
    } finally {
      await c.cleanup();
    }
  });
});
