import { describe, expect, it } from "vitest";
import { codeSandboxBudget } from "./budget";
import { sandboxBudgetFromEnv } from "./index";

const MiB = 1024 * 1024;

describe("code sandbox budget", () => {
  it("runs one sandbox per whole CPU of the limit, never more than the jobs in flight", () => {
    expect(codeSandboxBudget({ cpuLimitMillicores: 1000, memoryLimitBytes: undefined, maxConcurrentJobs: 10 }).sandboxes).toBe(1);
    expect(codeSandboxBudget({ cpuLimitMillicores: 1999, memoryLimitBytes: undefined, maxConcurrentJobs: 10 }).sandboxes).toBe(1);
    expect(codeSandboxBudget({ cpuLimitMillicores: 250, memoryLimitBytes: undefined, maxConcurrentJobs: 10 }).sandboxes).toBe(1);
    expect(codeSandboxBudget({ cpuLimitMillicores: 4000, memoryLimitBytes: undefined, maxConcurrentJobs: 10 }).sandboxes).toBe(4);
    expect(codeSandboxBudget({ cpuLimitMillicores: 4000, memoryLimitBytes: undefined, maxConcurrentJobs: 2 }).sandboxes).toBe(2);
  });

  it("holds the worst case within the memory limit, trading sandboxes for it", () => {
    const small = codeSandboxBudget({ cpuLimitMillicores: 1000, memoryLimitBytes: 512 * MiB, maxConcurrentJobs: 10 });
    expect(small).toMatchObject({ sandboxes: 1, fits: true });
    expect(small.worstCaseBytes).toBe(small.baseBytes + small.perSandboxBytes);
    // A sandbox's worst case is at least its program's memory cap plus QuickJS's headroom (128 + 32 MiB).
    expect(small.perSandboxBytes).toBeGreaterThanOrEqual(160 * MiB);
    const cpuRich = codeSandboxBudget({ cpuLimitMillicores: 4000, memoryLimitBytes: 768 * MiB, maxConcurrentJobs: 10 });
    expect(cpuRich.sandboxes).toBe(Math.floor((768 * MiB - cpuRich.baseBytes) / cpuRich.perSandboxBytes));
    expect(cpuRich.sandboxes).toBeLessThan(4);
    expect(cpuRich.fits).toBe(true);
    const tooSmall = codeSandboxBudget({ cpuLimitMillicores: 1000, memoryLimitBytes: 256 * MiB, maxConcurrentJobs: 10 });
    expect(tooSmall).toMatchObject({ sandboxes: 1, fits: false });
  });

  it("reads the pod's limits from the downward-API variables, not from the node's CPUs", () => {
    expect(sandboxBudgetFromEnv({ CPU_LIMIT_MILLICORES: "3000", MEMORY_LIMIT_BYTES: String(4096 * MiB), MAX_CONCURRENT_JOBS: "10" }).sandboxes).toBe(3);
    expect(sandboxBudgetFromEnv({}).sandboxes).toBe(1);
    expect(() => sandboxBudgetFromEnv({ CPU_LIMIT_MILLICORES: "1.5" })).toThrow(/CPU_LIMIT_MILLICORES/);
  });
});
