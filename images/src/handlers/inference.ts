import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { InferenceSession as Session } from "onnxruntime-node";
import { z } from "zod";
import type { JobContext, JobHandler } from "../runtime/types";
import { releaseFetched } from "../store";
import { inputUrl } from "./schema";

/** The model shipped in the image; `MODEL_PATH` points elsewhere. */
export const DEFAULT_MODEL_PATH = join(__dirname, "..", "..", "models", "block-classifier.onnx");
export const INPUT_WIDTH = 512;
/** As the playbook's OptimizedInference batches. */
export const BATCH_SIZE = 32;
export const MAX_ROWS = 65_536;
const WARMUP_RUNS = 3;

let ortModule: Promise<typeof import("onnxruntime-node")> | undefined;
/** Loaded on first use: the native runtime is only in the ai-inference image. */
function ort(): Promise<typeof import("onnxruntime-node")> {
  ortModule ??= import("onnxruntime-node");
  return ortModule;
}

export class InferenceError extends Error {
  override readonly name = "InferenceError";
}

const row = z.array(z.number().finite()).length(INPUT_WIDTH);

/** 4,096 inline rows of 512 numbers at up to 25 characters each (`-1.2345678901234567e-300,`), and the envelope. */
export const INFERENCE_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export const inferencePayloadSchema = z
  .object({
    /** Rows of 512 numbers inline… */
    inputs: z.array(row).min(1).max(4_096).optional(),
    /** …or a URL to a JSON array of rows, or to raw little-endian float32 (`.f32`, 512 per row). */
    input: inputUrl.optional(),
    /** Return probabilities inline when there are at most this many rows (all are in the stored result). */
    inlineLimit: z.number().int().min(0).max(4_096).default(256),
  })
  .strict()
  .refine((p) => (p.inputs === undefined) !== (p.input === undefined), "give exactly one of inputs or input");
export type InferencePayload = z.infer<typeof inferencePayloadSchema>;

export interface InferenceResult {
  rows: number;
  batches: number;
  batchSize: number;
  provider: "cuda" | "cpu";
  labels: number[];
  probabilities?: number[][];
  resultUrl: string;
  inferenceMs: number;
}

/** The playbook's session options: all graph optimizations, memory arena and pattern, parallel execution. */
export function sessionOptions(provider: "cuda" | "cpu"): Session.SessionOptions {
  return {
    graphOptimizationLevel: "all",
    executionMode: "parallel",
    interOpNumThreads: 4,
    intraOpNumThreads: 4,
    enableCpuMemArena: true,
    enableMemPattern: true,
    executionProviders:
      provider === "cuda"
        ? [{ name: "cuda", deviceId: 0 }, "cpu"]
        : ["cpu"],
  };
}

/** A GPU is present when the NVIDIA device nodes are, or when `INFERENCE_DEVICE=cuda` insists. */
export function gpuPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.INFERENCE_DEVICE === "cpu") return false;
  if (env.INFERENCE_DEVICE === "cuda") return true;
  return existsSync("/dev/nvidiactl") && existsSync("/dev/nvidia0");
}

export class ModelRunner {
  private session?: Session;
  provider: "cuda" | "cpu" = "cpu";
  private loading?: Promise<Session>;

  constructor(
    private readonly modelPath: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  async load(): Promise<Session> {
    this.loading ??= (async () => {
      const { InferenceSession } = await ort();
      if (gpuPresent()) {
        try {
          this.session = await InferenceSession.create(this.modelPath, sessionOptions("cuda"));
          this.provider = "cuda";
          return this.session;
        } catch (err) {
          // The image may lack the CUDA provider build, or the driver may not match: CPU still serves.
          this.log(`CUDA execution provider unavailable, using CPU: ${(err as Error).message}`);
        }
      }
      this.session = await InferenceSession.create(this.modelPath, sessionOptions("cpu"));
      this.provider = "cpu";
      return this.session;
    })();
    return this.loading;
  }

  /** A few throw-away runs so the first real job does not pay for lazy allocation and kernel selection. */
  async warmup(): Promise<void> {
    const session = await this.load();
    const { Tensor } = await ort();
    for (let i = 0; i < WARMUP_RUNS; i++) {
      const data = Float32Array.from({ length: INPUT_WIDTH }, () => Math.random() * 2 - 1);
      await session.run({ input: new Tensor("float32", data, [1, INPUT_WIDTH]) });
    }
  }

  /** Runs `data` (rows × 512) in batches of BATCH_SIZE, checking the signal between batches. */
  async infer(
    data: Float32Array,
    signal: AbortSignal,
    onBatch?: (done: number, total: number) => void,
  ): Promise<{ probabilities: Float32Array; labels: number[]; batches: number }> {
    const session = await this.load();
    const { Tensor } = await ort();
    const rows = data.length / INPUT_WIDTH;
    const total = Math.ceil(rows / BATCH_SIZE);
    const probabilities = new Float32Array(rows * 4);
    const labels: number[] = [];
    for (let b = 0; b < total; b++) {
      signal.throwIfAborted();
      const start = b * BATCH_SIZE;
      const n = Math.min(BATCH_SIZE, rows - start);
      const batch = data.subarray(start * INPUT_WIDTH, (start + n) * INPUT_WIDTH);
      const out = await session.run({ input: new Tensor("float32", batch, [n, INPUT_WIDTH]) });
      probabilities.set(out.probabilities.data as Float32Array, start * 4);
      for (const l of out.label.data as BigInt64Array) labels.push(Number(l));
      onBatch?.(b + 1, total);
    }
    return { probabilities, labels, batches: total };
  }

  async close(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
    this.loading = undefined;
  }
}

async function loadRows(p: InferencePayload, ctx: JobContext): Promise<Float32Array> {
  if (p.inputs) return Float32Array.from(p.inputs.flat());
  const path = await ctx.store.fetchToFile(p.input!, ctx.signal);
  try {
    const size = (await stat(path)).size;
    if (p.input!.endsWith(".f32")) {
      if (size % (INPUT_WIDTH * 4) !== 0) throw new InferenceError(`raw float32 input must be a multiple of ${INPUT_WIDTH * 4} bytes, got ${size}`);
      if (size / (INPUT_WIDTH * 4) > MAX_ROWS) throw new InferenceError(`at most ${MAX_ROWS} rows per job`);
      const buf = await readFile(path);
      const out = new Float32Array(size / 4);
      for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
      if (!out.every(Number.isFinite)) throw new InferenceError("input contains NaN or infinite values");
      return out;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, "utf8"));
    } catch {
      throw new InferenceError("input is neither .f32 nor a JSON array of rows");
    }
    const rows = z.array(row).min(1).max(MAX_ROWS).safeParse(parsed);
    if (!rows.success) throw new InferenceError(`input JSON must be an array of rows of ${INPUT_WIDTH} finite numbers`);
    return Float32Array.from(rows.data.flat());
  } finally {
    await releaseFetched(path);
  }
}

export function createInferenceHandler(modelPath = process.env.MODEL_PATH || DEFAULT_MODEL_PATH): JobHandler<InferencePayload, InferenceResult> & {
  runner: ModelRunner;
} {
  const runner = new ModelRunner(modelPath, (m) => console.warn(m));
  return {
    type: "inference",
    payloadSchema: inferencePayloadSchema as z.ZodType<InferencePayload>,
    maxRequestBytes: INFERENCE_MAX_REQUEST_BYTES,
    runner,
    warmup: () => runner.warmup(),
    close: () => runner.close(),
    async run(payload, ctx) {
      const p = inferencePayloadSchema.parse(payload);
      const data = await loadRows(p, ctx);
      ctx.progress(0.1, "inputs loaded");
      const t0 = performance.now();
      const { probabilities, labels, batches } = await runner.infer(data, ctx.signal, (done, total) =>
        ctx.progress(0.1 + 0.8 * (done / total), `batch ${done}/${total}`),
      );
      const inferenceMs = Math.round((performance.now() - t0) * 100) / 100;
      const rows = labels.length;
      const probRows = Array.from({ length: rows }, (_, i) => Array.from(probabilities.subarray(i * 4, i * 4 + 4)));
      const stored = await ctx.store.put(
        `inference/${ctx.jobId}/result.json`,
        Buffer.from(JSON.stringify({ labels, probabilities: probRows })),
        "application/json",
      );
      ctx.progress(1, "done");
      return {
        rows,
        batches,
        batchSize: BATCH_SIZE,
        provider: runner.provider,
        labels,
        probabilities: rows <= p.inlineLimit ? probRows : undefined,
        resultUrl: stored.url,
        inferenceMs,
      };
    },
  };
}

export const inferenceHandler = createInferenceHandler();
