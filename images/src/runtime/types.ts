import type { Logger } from "pino";
import type { z } from "zod";

/** Job types served over HTTP as `/api/<type>/jobs`, one per processor. */
export const JOB_TYPES = ["video", "document", "inference", "media", "code"] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** Which processor service serves which job type. */
export const PROCESSOR_FOR_TYPE: Record<JobType, string> = {
  video: "video-processor",
  document: "document-processor",
  inference: "ai-inference",
  media: "media-transcoder",
  code: "code-executor",
};

/** Where handlers write their outputs (a local directory in tests, R2/S3 in the cloud). */
export interface ResultStore {
  /** Stores `body` under `key` and returns the URL the job's result records. */
  put(key: string, body: Buffer | NodeJS.ReadableStream, contentType: string): Promise<{ url: string; bytes: number }>;
  /** Opens an input referenced by URL (https://, s3://, gs://, or this store's own URLs) as a local file path. */
  fetchToFile(url: string, signal: AbortSignal): Promise<string>;
}

/** What the runtime hands a handler for one attempt of one job. */
export interface JobContext {
  readonly jobId: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** Aborted on JOB_TIMEOUT or when the worker must give the job up; handlers must stop promptly. */
  readonly signal: AbortSignal;
  /** Reports progress in [0, 1] with an optional message. */
  progress(fraction: number, message?: string): void;
  /**
   * Tells the runtime that `seconds` of this attempt went to waiting for a shared resource (a free sandbox),
   * not to the job's own work: left out of its duration and cost, observed as `job_wait_seconds`.
   */
  recordWait?(seconds: number): void;
  readonly logger: Logger;
  readonly store: ResultStore;
  /** A scratch directory for this attempt, removed after it ends. */
  readonly workDir: string;
}

export interface JobHandler<P = unknown, R = unknown> {
  readonly type: JobType;
  /** Validates submitted payloads; the HTTP API answers 400 with its issues. Strict: unknown fields are errors. */
  readonly payloadSchema: z.ZodType<P>;
  /**
   * Largest request body the HTTP API reads for this type, derived from the payload's own limits;
   * larger bodies are refused with 413 before they are buffered. Default {@link DEFAULT_MAX_REQUEST_BYTES}.
   */
  readonly maxRequestBytes?: number;
  /** False when the handler never touches the results store: its worker then starts without one. Default true. */
  readonly usesStore?: boolean;
  /** Runs one attempt; a thrown error fails the attempt (retried with backoff until max attempts). */
  run(payload: P, ctx: JobContext): Promise<R>;
  /** Called once at start before the worker reports ready (e.g. model warm-up). */
  warmup?(): Promise<void>;
  /** Called once at shutdown. */
  close?(): Promise<void>;
}

/** Request body cap for handlers that do not state their own. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;

export type HandlerRegistry = Partial<Record<JobType, JobHandler<any, any>>>;
