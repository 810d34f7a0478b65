import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlanCost } from "./cost";

const USAGE = "usage: npm run cost -- <plan-dir> <other-plan-dir>   (each holding a cost.json written by npm run plan)";

function load(dir: string): PlanCost {
  try {
    return JSON.parse(readFileSync(join(dir, "cost.json"), "utf8")) as PlanCost;
  } catch (e) {
    throw new Error(`${join(dir, "cost.json")}: cannot read a plan's cost (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run npm run plan -- --out ${dir} first`);
  }
}

const usd = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signed = (n: number) => (Math.abs(n) < 0.005 ? "0.00" : `${n > 0 ? "+" : "−"}${usd(Math.abs(n))}`);

/** Per component: the ceiling in each plan and the change, the way a reviewer wants it under a pull request. */
export function diffCosts(a: PlanCost, b: PlanCost, labels: [string, string]): string {
  const names = [...new Set([...a.estimate.components, ...b.estimate.components].map((c) => c.component))];
  const ceiling = (p: PlanCost, n: string) => p.estimate.components.find((c) => c.component === n)?.ceiling ?? 0;
  const floor = (p: PlanCost, n: string) => p.estimate.components.find((c) => c.component === n)?.floor ?? 0;
  const width = Math.max(9, ...names.map((n) => n.length));
  const row = (n: string, ...cols: string[]) => `  ${n.padEnd(width)}${cols.map((c) => c.padStart(14)).join("")}`;
  const lines = [`cost ceiling (USD per month): ${labels[0]} → ${labels[1]}`, row("component", "before", "after", "change", "floor change")];
  const rows = names
    .map((n) => ({ n, d: ceiling(b, n) - ceiling(a, n), df: floor(b, n) - floor(a, n) }))
    .sort((x, y) => Math.abs(y.d) - Math.abs(x.d) || x.n.localeCompare(y.n));
  for (const { n, d, df } of rows) lines.push(row(n, usd(ceiling(a, n)), usd(ceiling(b, n)), signed(d), signed(df)));
  lines.push(
    row("total", usd(a.estimate.total.ceiling), usd(b.estimate.total.ceiling), signed(b.estimate.total.ceiling - a.estimate.total.ceiling), signed(b.estimate.total.floor - a.estimate.total.floor)),
  );
  return lines.join("\n");
}

function main(argv: string[]): number {
  if (argv.length !== 2 || argv.some((a) => a.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  try {
    console.log(diffCosts(load(argv[0]), load(argv[1]), [argv[0], argv[1]]));
    return 0;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
