/** Limits in the range of Judge0 and Piston defaults. */
export const CODE_LIMITS = {
  timeoutMs: { default: 5_000, max: 10_000 },
  memoryMb: { default: 128, max: 128 },
  maxOutputBytes: { default: 64 * 1024, max: 64 * 1024 },
  /** UTF-8 bytes of the program's source. */
  sourceBytes: 64 * 1024,
  /** UTF-8 bytes of the input, serialised as JSON. */
  inputBytes: 256 * 1024,
  /** Console lines a program may print; past this, as past the byte budget, it ends with `output-limit`. */
  consoleLines: 10_000,
  stackBytes: 512 * 1024,
  /** The WebAssembly memory may exceed the program's limit by this much (QuickJS's own tables and stack). */
  wasmHeadroomBytes: 32 * 1024 * 1024,
  /**
   * A request body for a code job: the source and input at their limits with room for JSON escaping and the
   * envelope. Larger bodies get 413 before they are read.
   */
  requestBytes: 512 * 1024,
} as const;

/** The linear memory the QuickJS module starts with (its compiled-in minimum). */
export const QUICKJS_INITIAL_MEMORY_BYTES = 16 * 1024 * 1024;
