import { CODE_LIMITS, QUICKJS_INITIAL_MEMORY_BYTES } from "./limits";

const MiB = 1024 * 1024;

/**
 * Memory the code worker needs besides its sandboxes, with margin: a code worker run from source under tsx, one
 * warm sandbox thread included, held 111–150 MiB of RSS through floods of trivial and CPU-bound jobs
 * (`npm run bench:code`).
 */
export const CODE_HOST_MEMORY = {
  /** Node, the worker's modules, its database pool, metrics, the HTTP server. */
  processBaseBytes: 160 * MiB,
  /** Per job in flight: the payload (≤ 64 KiB source, ≤ 256 KiB input), its parsed copy and the result. */
  perJobBytes: 2 * MiB,
  /** A sandbox thread beyond its heap limits: V8 isolate, compiled code, Node's per-thread environment. */
  threadOverheadBytes: 16 * MiB,
  /** A sandbox thread's V8 heap (see SANDBOX_THREAD_LIMITS in pool.ts: 32 MiB old, 8 MiB young, 4 MiB stack). */
  threadHeapBytes: (32 + 8 + 4) * MiB,
} as const;

export interface CodeSandboxBudgetInput {
  /** The container's CPU limit in millicores (`CPU_LIMIT_MILLICORES`, from the pod's limits.cpu). */
  readonly cpuLimitMillicores: number;
  /** The container's memory limit (`MEMORY_LIMIT_BYTES`); undefined when there is none. */
  readonly memoryLimitBytes: number | undefined;
  /** Jobs the worker runs at once (`MAX_CONCURRENT_JOBS`); jobs beyond the sandbox count wait for one. */
  readonly maxConcurrentJobs: number;
}

export interface CodeSandboxBudget {
  /** Sandbox threads the worker runs. */
  readonly sandboxes: number;
  /** Worst case of one sandbox: a program's WebAssembly memory at its maximum, the previous program's unreclaimed minimum, the thread's heap and overhead. */
  readonly perSandboxBytes: number;
  /** The worker without sandboxes, with every job slot holding a payload and a result. */
  readonly baseBytes: number;
  readonly worstCaseBytes: number;
  /** The worst case fits the memory limit. */
  readonly fits: boolean;
}

/**
 * How many code sandboxes a worker runs and what they can cost. One sandbox per whole CPU of the container's
 * limit (a program keeps a core busy; more sandboxes than cores only slows every program down, and under gVisor
 * the node's CPU count says nothing about the pod's share), never more than the jobs in flight, and no more than
 * the memory limit holds at every sandbox's worst case. At least one: `fits` then says whether even that fits.
 */
export function codeSandboxBudget(input: CodeSandboxBudgetInput): CodeSandboxBudget {
  const { cpuLimitMillicores, memoryLimitBytes, maxConcurrentJobs } = input;
  const perSandboxBytes =
    CODE_LIMITS.memoryMb.max * MiB +
    CODE_LIMITS.wasmHeadroomBytes +
    // A retired program's linear memory lives until the thread's next garbage collection; threads whose
    // program grew it past the minimum are replaced instead of reused, so at most the minimum lingers.
    QUICKJS_INITIAL_MEMORY_BYTES +
    CODE_HOST_MEMORY.threadHeapBytes +
    CODE_HOST_MEMORY.threadOverheadBytes;
  const baseBytes = CODE_HOST_MEMORY.processBaseBytes + Math.max(1, maxConcurrentJobs) * CODE_HOST_MEMORY.perJobBytes;
  const byCpu = Math.max(1, Math.floor(cpuLimitMillicores / 1000));
  const byMemory = memoryLimitBytes === undefined ? Number.POSITIVE_INFINITY : Math.floor((memoryLimitBytes - baseBytes) / perSandboxBytes);
  const sandboxes = Math.max(1, Math.min(byCpu, Math.max(1, maxConcurrentJobs), byMemory));
  const worstCaseBytes = baseBytes + sandboxes * perSandboxBytes;
  return { sandboxes, perSandboxBytes, baseBytes, worstCaseBytes, fits: memoryLimitBytes === undefined || worstCaseBytes <= memoryLimitBytes };
}
