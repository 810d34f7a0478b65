import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { priceBook } from "../../../components/cost/book";
import { budgetLimitOf, estimateCost, type CostEstimate } from "../../../components/cost/estimate";
import { configOf, stackPolicy } from "../core/policy";

/** Playbook key metrics: cost per job, critical above $0.25. */
const DEFAULT_MAX_COST_PER_JOB_USD = 0.25;
/** The floor may use this share of the budget before the advisory fires: room left for scale-out. */
const DEFAULT_FLOOR_SHARE = 0.8;

const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The stack's estimate and budget, once per validation; an estimate that cannot be made is reported, not skipped. */
function costOf(args: StackValidationArgs): { estimate?: CostEstimate; error?: string; budget?: number; budgetUrn?: string } {
  const records = args.resources.map((r: PolicyResource) => ({ urn: r.urn, type: r.type, name: r.name, props: r.props, parent: r.parent?.urn ?? null }));
  const budgets = args.resources.map((r) => ({ r, limit: budgetLimitOf(r) })).filter((b) => b.limit !== undefined);
  const tightest = budgets.sort((a, b) => a.limit! - b.limit!)[0];
  try {
    return { estimate: estimateCost(records, priceBook(), { today: new Date() }), budget: tightest?.limit, budgetUrn: tightest?.r.urn };
  } catch (e) {
    return { error: (e as Error).message, budget: tightest?.limit, budgetUrn: tightest?.r.urn };
  }
}

function largest(e: CostEstimate, n = 3): string {
  return e.components
    .slice(0, n)
    .map((c) => `${c.component} ${usd(c.ceiling)}`)
    .join(", ");
}

export const ceilingWithinBudget = stackPolicy({
  name: "cost-ceiling-within-budget",
  summary: "The stack's estimated monthly ceiling (every processor at maxReplicas on the nodes it needs, pools within maxNodes) must not exceed its budget.",
  enforcement: "mandatory",
  meta: {
    area: "cost",
    source: "FinOps Foundation: budgets and forecasting before provisioning; operations playbook Cost Optimization; the stack's cloud budget (cost.monthlyBudgetUsd)",
    why: "A scale-out the budget cannot pay for is a decision to take before deploying, not a surprise on the invoice; the plan can price it exactly from what it declares.",
  },
  fix: "Lower processors.*.scaling.maxReplicas or a pool's maxNodes, choose cheaper machine types (spot), or raise cost.monthlyBudgetUsd deliberately.",
  validate: (args, report) => {
    const { estimate, error, budget, budgetUrn } = costOf(args);
    if (budget === undefined) return args.notApplicable("the stack declares no budget (cost.monthlyBudgetUsd)");
    if (error) {
      report(`The stack's cost cannot be estimated: ${error}`, budgetUrn);
      return;
    }
    if (estimate!.total.ceiling > budget) {
      report(
        `Estimated monthly ceiling ${usd(estimate!.total.ceiling)} exceeds the budget ${usd(budget)} (cost.monthlyBudgetUsd). Largest: ${largest(estimate!)}.`,
        budgetUrn,
      );
    }
  },
});

export const floorHeadroom = stackPolicy({
  name: "cost-floor-headroom",
  summary: "The stack's idle floor (pools at minNodes, processors at minReplicas) should stay under 80 % of its budget.",
  enforcement: "advisory",
  meta: {
    area: "cost",
    source: "Operations playbook Cost Optimization (idle resources, right-sizing); FinOps budget thresholds at 80 %",
    why: "A floor near the budget leaves no room to scale out within it; it is a warning because floors are sometimes bought on purpose (DR warm standby).",
  },
  fix: "Lower minReplicas or pools' minNodes, or raise cost.monthlyBudgetUsd.",
  configSchema: { properties: { floorShare: { type: "number", default: DEFAULT_FLOOR_SHARE } } },
  validate: (args, report) => {
    const { floorShare } = configOf(args, { floorShare: DEFAULT_FLOOR_SHARE });
    const { estimate, budget, budgetUrn } = costOf(args);
    if (budget === undefined) return args.notApplicable("the stack declares no budget (cost.monthlyBudgetUsd)");
    if (!estimate) return;
    if (estimate.total.floor > budget * floorShare) {
      report(
        `Estimated monthly floor ${usd(estimate.total.floor)} is ${Math.round((estimate.total.floor / budget) * 100)} % of the budget ${usd(budget)} (limit ${Math.round(floorShare * 100)} %).`,
        budgetUrn,
      );
    }
  },
});

export const costPerJob = stackPolicy({
  name: "cost-per-job-at-p95",
  summary: "A processor's cost per job at its p95 duration (its latency SLO) must stay under the playbook's critical $0.25.",
  enforcement: "advisory",
  meta: {
    area: "cost",
    source: "Operations playbook Key Operational Metrics: cost per job target < $0.10, critical > $0.25",
    why: "A job type that costs more than the critical figure at its own p95 is priced out of the playbook before it runs; advisory because a few expensive job types can be a business decision.",
  },
  fix: "Lower the processor's requests or raise maxConcurrentJobs, use a cheaper pool, or shorten its p95 latency target.",
  configSchema: { properties: { maxCostPerJobUsd: { type: "number", default: DEFAULT_MAX_COST_PER_JOB_USD } } },
  validate: (args, report) => {
    const { maxCostPerJobUsd } = configOf(args, { maxCostPerJobUsd: DEFAULT_MAX_COST_PER_JOB_USD });
    const { estimate } = costOf(args);
    for (const p of estimate?.processors ?? []) {
      if (p.costPerJobAtP95Usd !== undefined && p.costPerJobAtP95Usd > maxCostPerJobUsd) {
        const deployment = args.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.props.metadata?.name ?? r.name) === p.processor);
        report(
          `${p.processor}: a job at its p95 (${p.latencyP95Seconds} s) costs ${usd(p.costPerJobAtP95Usd)} at ${p.configuredCostPerSecondUsd ?? p.derivedCostPerSecondUsd} USD/s, above ${usd(maxCostPerJobUsd)}.`,
          deployment?.urn,
        );
      }
    }
  },
});
