import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { diffPlans, formatDiff, isSamePlan, type PlanRecord } from "./diff";

const USAGE = "usage: npm run plan:diff -- <before: plan dir or resources.json> <after: plan dir or resources.json>";

function load(path: string): PlanRecord[] {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "resources.json") : path;
  if (!existsSync(file)) throw new Error(`${file}: not found; write a plan first with npm run plan -- --stack <stack> --out <dir>`);
  return JSON.parse(readFileSync(file, "utf8")) as PlanRecord[];
}

function main(argv: string[]): number {
  if (argv.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  try {
    const diff = diffPlans(load(argv[0]), load(argv[1]));
    console.log(formatDiff(diff));
    return isSamePlan(diff) ? 0 : 1;
  } catch (e) {
    console.error(`plan:diff: ${(e as Error).message}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
