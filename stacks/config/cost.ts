import { z } from "zod";
import { priceBook } from "../../components/cost/book";
import { jobSecondPrice, podHourlyPrice } from "../../components/cost/estimate";
import { parseQuantity } from "../../components/quantity";
import { POOL_NAMES, type PoolName } from "./defaults";
import type { ClusterConfig } from "./cluster";

/** What the stack may cost, and how old its prices may be. */
export const costSchema = z
  .strictObject({
    /** The monthly ceiling the plan's estimate must stay under; also a cloud budget that alerts on real spend. */
    monthlyBudgetUsd: z.number().positive("expected a monthly budget > 0 (USD)").optional(),
    /** The price book and budgets are in US dollars; another currency would need exchange rates the plan does not have. */
    currency: z.string().refine((c) => c === "USD", { error: (i) => `the price book is priced in USD; got ${JSON.stringify(i.input)}` }),
    /** A plan warns when the price book's oldest figure is older than this. */
    priceBookMaxAgeDays: z.number().int().positive(),
    /** GCP billing account the budget is set on (gcp only), e.g. 012345-6789AB-CDEF01. */
    billingAccount: z.string().regex(/^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/, "expected a billing account id such as 012345-6789AB-CDEF01").optional(),
    /** Who the cloud budget emails at 80 % of actual and 100 % of forecast spend. */
    alertEmails: z.array(z.email("expected an email address")),
  });
export type CostConfig = z.infer<typeof costSchema>;

export const COST_DEFAULTS = { currency: "USD", priceBookMaxAgeDays: 90, alertEmails: [] } as const;

/**
 * Config keys naming a machine type, region or GPU the price book has no price for: a stack the plan cannot price
 * is refused before anything is registered.
 */
export function unpricedKeys(cluster: ClusterConfig): { path: (string | number)[]; message: string }[] {
  const book = priceBook();
  const problems: { path: (string | number)[]; message: string }[] = [];
  const where = `${cluster.cloud} ${cluster.region}`;
  if (!book.data.machines.some((m) => m.cloud === cluster.cloud && m.region === cluster.region)) {
    return [{ path: ["cluster", "region"], message: `the price book has no prices for ${where}; add them to components/cost/price-book.json` }];
  }
  for (const name of POOL_NAMES) {
    const pool = cluster.nodePools[name];
    if (pool.maxNodes === 0) continue;
    const types = cluster.cloud === "aws" && pool.instanceTypes.length > 0 ? pool.instanceTypes : [pool.machineType];
    const key = cluster.cloud === "aws" && pool.instanceTypes.length > 0 ? "instanceTypes" : "machineType";
    types.forEach((type, i) => {
      if (!book.machine(cluster.cloud, cluster.region, type)) {
        problems.push({
          path: ["cluster", "nodePools", name, key, ...(key === "instanceTypes" ? [i] : [])],
          message: `the price book has no price for ${type} in ${where}; add it to components/cost/price-book.json`,
        });
      }
    });
    const machine = book.machine(cluster.cloud, cluster.region, pool.machineType);
    if (cluster.cloud === "gcp" && pool.gpuType && pool.gpuCount > 0 && machine) {
      const bundled = machine.gpu?.type === pool.gpuType && machine.gpu.count >= pool.gpuCount;
      if (!bundled && !book.gpu("gcp", cluster.region, pool.gpuType)) {
        problems.push({ path: ["cluster", "nodePools", name, "gpuType"], message: `the price book has no price for GPU ${pool.gpuType} in ${where}` });
      }
    }
  }
  return problems;
}

/**
 * The price of one job-second for a processor, from its pool's machine price and its requests (the same function the
 * plan's cost estimate uses, so `job_cost_usd` and cost.json agree). Spot pools are priced at spot.
 */
export function derivedCostPerSecondUsd(
  cluster: ClusterConfig,
  processor: { resources: { requests: { cpu: string; memory: string }; gpu: number }; maxConcurrentJobs: number; placement: { pool: PoolName } },
): number {
  const book = priceBook();
  const pool = cluster.nodePools[processor.placement.pool];
  const types = cluster.cloud === "aws" && pool.instanceTypes.length > 0 ? pool.instanceTypes : [pool.machineType];
  const machines = types.map((t) => book.machine(cluster.cloud, cluster.region, t)).filter((m) => m !== undefined);
  if (machines.length === 0) return NaN;
  const spot = processor.placement.pool === "spot";
  const machine = machines[0];
  const extraGpu =
    cluster.cloud === "gcp" && pool.gpuType && pool.gpuCount > 0 && !(machine.gpu?.type === pool.gpuType && machine.gpu.count >= pool.gpuCount)
      ? book.gpu("gcp", cluster.region, pool.gpuType)
      : undefined;
  const extraGpuHourly = extraGpu ? (spot ? extraGpu.spotHourly : extraGpu.onDemandHourly) * pool.gpuCount : 0;
  const pod = {
    cpu: parseQuantity(processor.resources.requests.cpu),
    memoryGiB: parseQuantity(processor.resources.requests.memory) / 2 ** 30,
    gpu: processor.resources.gpu,
  };
  // A pool whose machines carry GPUs the book counts in the machine: the node's GPU count is the pool's.
  const priced = machines.map((m) => (pool.gpuCount > 0 && !m.gpu ? { ...m, gpu: { type: pool.gpuType ?? "gpu", count: pool.gpuCount } } : m));
  return jobSecondPrice(podHourlyPrice(book, cluster.cloud, pod, priced, spot, extraGpuHourly), processor.maxConcurrentJobs);
}
