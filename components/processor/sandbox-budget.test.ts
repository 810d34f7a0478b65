import { describe, expect, it } from "vitest";
import { codeSandboxBudget } from "../../images/src/handlers/code/budget";
import { parseQuantity } from "../quantity";
import { PROCESSOR_FIXTURES } from "./test-fixtures";
import { deploymentSpec } from "./builders";

/**
 * The code-executor's memory limit must hold its configured worst case: every sandbox the worker will run (sized
 * by the worker's own rule from the CPU limit the downward API hands it) at its maximum, plus the worker.
 */
describe("code-executor sizing", () => {
  const settings = PROCESSOR_FIXTURES["code-executor"];
  const input = {
    cpuLimitMillicores: parseQuantity(settings.resources.limits.cpu) * 1000,
    memoryLimitBytes: parseQuantity(settings.resources.limits.memory),
    maxConcurrentJobs: settings.maxConcurrentJobs,
  };

  it("fits the configured worst case in its memory limit", () => {
    const budget = codeSandboxBudget(input);
    expect(budget.sandboxes).toBeGreaterThanOrEqual(1);
    expect(budget.worstCaseBytes, `worst case ${budget.worstCaseBytes} B vs limit ${input.memoryLimitBytes} B`).toBeLessThanOrEqual(input.memoryLimitBytes);
    expect(budget.fits).toBe(true);
  });

  it("hands the worker the limits the budget was computed from", () => {
    const spec = deploymentSpec({
      name: "code-executor",
      jobType: "code",
      config: settings,
      image: `r/code-executor@sha256:${"a".repeat(64)}`,
      labels: { environment: "production", costCenter: "c", team: "t" },
      pool: { name: "sandbox", labels: { "pitchey.io/pool": "sandbox" }, taints: [] },
      runtimeClassName: "gvisor",
      serviceAccountName: "code-executor",
      databaseSecretName: "jobs-database",
      httpsEgress: false,
    }) as any;
    const env = Object.fromEntries(spec.template.spec.containers[0].env.map((e: any) => [e.name, e.valueFrom ?? e.value]));
    expect(env.CPU_LIMIT_MILLICORES.resourceFieldRef).toMatchObject({ resource: "limits.cpu", divisor: "1m" });
    expect(env.MEMORY_LIMIT_BYTES.resourceFieldRef).toMatchObject({ resource: "limits.memory", divisor: "1" });
    expect(env.MAX_CONCURRENT_JOBS).toBe(String(input.maxConcurrentJobs));
  });
});
