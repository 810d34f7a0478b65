/**
 * Thrown by a handler when retrying cannot help (e.g. the input is unusable):
 * the job ends `failed` at once instead of backing off to `dead`.
 */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/** The attempt ran longer than JOB_TIMEOUT. */
export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`Job timed out after ${timeoutMs / 1000}s`);
  }
}

/** Another worker owns the job now; this attempt's outcome will not be recorded. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor() {
    super("Lease lost; the job belongs to another worker now");
  }
}

/** The worker is shutting down and gives the job back. */
export class ShutdownError extends Error {
  override name = "ShutdownError";
  constructor() {
    super("Worker shutting down; job released");
  }
}
