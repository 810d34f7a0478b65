import type { PriceBook } from "../../components/cost/book";
import { budgetLimitOf, estimateCost, type CostEstimate, type CostRecord } from "../../components/cost/estimate";

export interface PlanCost {
  readonly estimate: CostEstimate;
  readonly priceBook: { readonly oldestEntry: string; readonly ageDays: number; readonly maxAgeDays: number };
  readonly budgetUsd?: number;
}

/** The plan's cost: the estimate over its records, the price book's age and the budget the stack declares. */
export function planCost(records: readonly CostRecord[], book: PriceBook, opts: { today: Date; maxAgeDays: number }): PlanCost {
  const estimate = estimateCost(records, book, { today: opts.today });
  const budgets = records.map(budgetLimitOf).filter((b): b is number => b !== undefined);
  return {
    estimate,
    priceBook: { oldestEntry: book.oldestEntry(), ageDays: book.ageDays(opts.today), maxAgeDays: opts.maxAgeDays },
    ...(budgets.length > 0 ? { budgetUsd: Math.min(...budgets) } : {}),
  };
}

const usd = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** The table a reviewer reads: component, floor and ceiling per month, the total against the budget. */
export function renderCostTable(cost: PlanCost): string {
  const { estimate: e } = cost;
  const width = Math.max(9, ...e.components.map((c) => c.component.length));
  const row = (name: string, floor: string, ceiling: string) => `  ${name.padEnd(width)}  ${floor.padStart(12)}  ${ceiling.padStart(12)}`;
  const lines = [`cost (USD per month; price book of ${cost.priceBook.oldestEntry}):`, row("component", "floor", "ceiling")];
  for (const c of e.components) lines.push(row(c.component, usd(c.floor), usd(c.ceiling)));
  lines.push(row("total", usd(e.total.floor), usd(e.total.ceiling)));
  if (cost.budgetUsd !== undefined) {
    const pct = (n: number) => `${Math.round((n / cost.budgetUsd!) * 100)} %`;
    lines.push(`  budget ${usd(cost.budgetUsd)}: floor at ${pct(e.total.floor)}, ceiling at ${pct(e.total.ceiling)}`);
  } else lines.push("  no budget: set cost.monthlyBudgetUsd to have the policy pack hold the ceiling under it");
  if (e.notPriced.length > 0) lines.push(`  not priced (${e.notPriced.length}): ${e.notPriced.map((n) => `${n.resource} (${n.type})`).join(", ")}`);
  for (const w of e.warnings) lines.push(`  note: ${w}`);
  if (cost.priceBook.ageDays > cost.priceBook.maxAgeDays) {
    lines.push(
      `  warning: the price book's oldest figure is ${cost.priceBook.ageDays} days old (limit ${cost.priceBook.maxAgeDays}, cost.priceBookMaxAgeDays); refresh components/cost/price-book.json (docs/cost.md)`,
    );
  }
  return lines.join("\n");
}
