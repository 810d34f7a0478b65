import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { PlanCost } from "./cost";

const root = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "plan-cost-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tsx = (script: string, args: string[]) =>
  spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, script), ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });

interface Planned {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
  readonly cost?: PlanCost;
}

/** Plans a copy of the prod stack file changed by `mutate`, in a process of its own (the mock runtime runs once a process). */
function planWith(name: string, mutate: (config: Record<string, any>) => void): Promise<Planned> {
  const doc = parse(readFileSync(join(root, "Pulumi.prod.yaml"), "utf8"));
  mutate(doc.config);
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  const out = join(work, name);
  const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "stacks/plan/cli.ts"), "--config", file, "--out", out], { cwd: root });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on("close", (status) => {
      const cost = status === 2 ? undefined : (JSON.parse(readFileSync(join(out, "cost.json"), "utf8")) as PlanCost);
      resolve({ status, stdout, stderr, out, cost });
    }),
  );
}

const line = (c: PlanCost, what: RegExp) => c.estimate.items.find((i) => what.test(i.what))!;
const sum = (c: PlanCost, what: RegExp) => c.estimate.items.filter((i) => what.test(i.what)).reduce((n, i) => n + i.monthly.ceiling, 0);

describe("npm run plan prices the stack", () => {
  let base: Planned;
  let big: Planned;
  let capped: Planned;
  let bad: Planned;
  // Four plans, two at a time: each is the whole program under the mock runtime.
  beforeAll(async () => {
    [base, big] = await Promise.all([
      planWith("base", () => {}),
      planWith("general-n2-8", (c) => {
        c["pitchey-containers:cluster"].nodePools = { general: { machineType: "n2-standard-8" } };
      }),
    ]);
    [capped, bad] = await Promise.all([
      // A smaller spot pool and a budget under the ceiling in one plan.
      planWith("spot-max-8", (c) => {
        c["pitchey-containers:cluster"].nodePools = { spot: { maxNodes: 8 } };
        c["pitchey-containers:cost"].monthlyBudgetUsd = 1000;
      }),
      planWith("bad-cost", (c) => {
        c["pitchey-containers:cost"] = { monthlyBudgetUsd: -5, currency: "EUR" };
        c["pitchey-containers:cluster"].nodePools = { gpu: { machineType: "a3-highgpu-8g" } };
      }),
    ]);
  }, 600_000);

  it("prints the cost table and writes cost.json with every line item", () => {
    expect(base.status).toBe(0);
    expect(base.stdout).toMatch(/cost \(USD per month; price book of \d{4}-\d\d-\d\d\):\n\s+component\s+floor\s+ceiling/);
    expect(base.stdout).toMatch(/\n\s+total\s+[\d,]+\.\d\d\s+[\d,]+\.\d\d\n\s+budget 9,000\.00: floor at \d+ %, ceiling at \d+ %/);
    expect(base.cost!.estimate.items.length).toBeGreaterThan(10);
    expect(base.cost!.estimate.notPriced).toEqual([]);
    expect(base.cost!.budgetUsd).toBe(9000);
  });

  it("a bigger general machine type changes the general pool's ceiling the way a hand calculation says", () => {
    // document-processor (500m / 1Gi, 20 replicas at most) is the only processor on general; the pool keeps ≥ 3 nodes.
    // n2-standard-4: 3.72 CPU after reservations → 7 pods a node → 3 nodes; n2-standard-8: 7.71 CPU → 15 a node → 2,
    // but the pool's floor of 3 nodes holds: 3 × $0.388472 × 730 h instead of 3 × $0.194236 × 730 h.
    expect(big.status).toBe(0);
    const general = /^(general nodes|document-processor pods)/;
    expect(sum(base.cost!, general)).toBeCloseTo(3 * 0.194236 * 730, 4);
    expect(sum(big.cost!, general)).toBeCloseTo(3 * 0.388472 * 730, 4);
    expect(line(big.cost!, /^general boot disks/).monthly.ceiling).toBeCloseTo(3 * 100 * 0.1, 6);
  });

  it("a lower maxNodes caps the spot pool and the plan says where scale-out stops", () => {
    // video (2 CPU of 3.72) takes a node each and leaves room for one media pod (1 CPU): at their maxima (10 and 8)
    // both fit on 10 spot nodes; with maxNodes 8 the pool stops at 8 and the plan says so.
    expect(sum(base.cost!, /^(spot nodes|video-processor pods|media-transcoder pods)/)).toBeCloseTo(10 * 0.047204 * 730, 4);
    expect(line(capped.cost!, /^spot nodes/).quantity.ceiling).toBe(8);
    expect(sum(capped.cost!, /^(spot nodes|video-processor pods|media-transcoder pods)/)).toBeCloseTo(8 * 0.047204 * 730, 4);
    expect(capped.stdout).toMatch(/note: pool spot: processors at maxReplicas need 10 n2-standard-4 node\(s\), but the pool's maxNodes is 8/);
  });

  it("each processor's JOB_COST_PER_SECOND_USD is the one cost.json derives from the book", () => {
    for (const p of base.cost!.estimate.processors) {
      expect(p.configuredCostPerSecondUsd, p.processor).toBeCloseTo(p.derivedCostPerSecondUsd, 12);
    }
    // The Deployments carry their SLO, so cost per job at p95 is known: video at 600 s.
    const video = base.cost!.estimate.processors.find((p) => p.processor === "video-processor")!;
    expect(video.latencyP95Seconds).toBe(600);
    expect(video.costPerJobAtP95Usd).toBeCloseTo(video.derivedCostPerSecondUsd * 600, 12);
  });

  it("a budget below the ceiling fails the plan with the policy's message", () => {
    const r = capped;
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\[mandatory\] cost-ceiling-within-budget: .*\n\s+Estimated monthly ceiling \$[\d,.]+ exceeds the budget \$1,000\.00 \(cost\.monthlyBudgetUsd\)/);
  });

  it("bad cost config exits 2 naming the key, and writes nothing", () => {
    const r = bad;
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cost.monthlyBudgetUsd: expected a monthly budget > 0 (USD)");
    expect(r.stderr).toContain('cost.currency: the price book is priced in USD; got "EUR"');
    expect(r.stderr).toContain("cluster.nodePools.gpu.machineType: the price book has no price for a3-highgpu-8g in gcp us-west1");
  });

  it("npm run cost prints the difference per component between two plans", () => {
    const r = tsx("stacks/plan/cost-diff.ts", [base.out, capped.out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cluster:GkeCluster pitchey-containers\s+[\d,.]+\s+[\d,.]+\s+[-−][\d,.]+/);
    expect(r.stdout).toMatch(/total\s+[\d,.]+\s+[\d,.]+\s+[-−][\d,.]+/);
    expect(tsx("stacks/plan/cost-diff.ts", [base.out]).status).toBe(2);
  }, 120_000);
});
