import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { evaluatePlan, type PolicyReport } from "../../policies/src/evaluate";
import { ConfigError } from "../config";
import { isKubernetesObject, manifestOf, renderGraph, renderHelmValues, renderKubernetes, renderMonitoring, summarize } from "./render";
import { PriceBookError, priceBook } from "../../components/cost/book";
import { planCost, renderCostTable } from "./cost";
import { planRecords, runPlan } from "./run";
import { StackFileError } from "./stackConfig";
import { validateManifest } from "./validate";

const USAGE = "usage: npm run plan -- [--stack prod|dr] [--config <stack-config.yaml>] [--out <dir>]";

function writeTree(dir: string, files: Map<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { stack: { type: "string", default: "prod" }, config: { type: "string" }, out: { type: "string" }, help: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const stack = args.stack!;
  if (!/^[a-z][a-z0-9-]*$/.test(stack)) {
    console.error(`--stack: expected a stack name such as prod or dr, got "${stack}"`);
    return 2;
  }
  const configFile = resolve(args.config ?? `Pulumi.${stack}.yaml`);
  const outDir = resolve(args.out ?? join("out", stack));

  console.log(`plan: stack ${stack}, config ${configFile}`);
  const started = Date.now();
  const plan = await runPlan(stack, configFile);
  for (const key of plan.placeholders) console.log(`plan: ${key} is a secret the plan cannot read; using a placeholder`);
  console.log(`plan: program registered ${plan.resources.length} resources in ${Date.now() - started} ms`);
  const failover = plan.outputs.failover as { phase: number; poolWeights: { primary: number; standby: number }; promoteStandbyDatabase: boolean } | undefined;
  if (failover) {
    const floors = plan.resources
      .filter((r) => (r.props as { kind?: string }).kind === "ScaledObject")
      .map((r) => r.props as { metadata: { name: string }; spec: { minReplicaCount: number } })
      .map((o) => `${o.metadata.name}=${o.spec.minReplicaCount}`)
      .join(" ");
    console.log(
      `failover: phase ${failover.phase}: pool weights primary ${failover.poolWeights.primary} / standby ${failover.poolWeights.standby}; ` +
        `database ${failover.promoteStandbyDatabase ? "promoted to primary" : "replica"}; floors ${floors}`,
    );
  }

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const records = planRecords(plan.resources);
  writeFileSync(join(outDir, "resources.json"), JSON.stringify(records, null, 2) + "\n");

  const k8sFiles = renderKubernetes(plan.resources);
  writeTree(join(outDir, "k8s"), k8sFiles);
  writeTree(join(outDir, "helm"), renderHelmValues(plan.resources));
  writeFileSync(join(outDir, "graph.mmd"), renderGraph(plan.resources, plan.dependencies));
  const monitoring = renderMonitoring(plan.resources);
  for (const [file, text] of monitoring) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    writeFileSync(join(outDir, file), text);
  }
  console.log(`plan: wrote resources.json, k8s/ (${k8sFiles.size} files), helm/, graph.mmd${monitoring.size ? ", prometheus/, alertmanager/, grafana/" : ""}`);

  let invalid = 0;
  let unchecked = 0;
  for (const r of plan.resources.filter(isKubernetesObject)) {
    const m = manifestOf(r);
    const check = await validateManifest(m);
    if (check.errors === undefined) unchecked++;
    else if (check.errors.length > 0) {
      invalid++;
      console.error(`schema: ${m.kind} ${r.name}: ${check.errors.join("; ")}`);
    }
  }
  const k8sCount = plan.resources.filter(isKubernetesObject).length;
  console.log(`schema: ${k8sCount - invalid - unchecked}/${k8sCount} Kubernetes objects valid${unchecked ? `, ${unchecked} without a schema` : ""}`);

  const report: PolicyReport = evaluatePlan(records);
  writeFileSync(join(outDir, "policy-report.json"), JSON.stringify(report, null, 2) + "\n");

  const s = summarize(plan.resources);
  console.log(`\nsummary: ${s.total} resources`);
  console.log("  per component:");
  for (const [k, v] of Object.entries(s.byComponent).sort()) console.log(`    ${String(v).padStart(4)}  ${k}`);
  console.log("  per provider:");
  for (const [k, v] of Object.entries(s.byProvider).sort()) console.log(`    ${String(v).padStart(4)}  ${k}`);

  const cost = planCost(records, priceBook(), { today: new Date(), maxAgeDays: plan.config.cost.priceBookMaxAgeDays });
  writeFileSync(join(outDir, "cost.json"), JSON.stringify(cost, null, 2) + "\n");
  console.log(`\n${renderCostTable(cost)}`);

  const mandatory = report.violations.filter((v) => v.enforcement === "mandatory");
  const advisory = report.violations.length - mandatory.length;
  console.log(`\npolicy: ${report.policies} policies, ${mandatory.length} mandatory and ${advisory} advisory violations`);
  for (const v of report.violations) console.log(`  [${v.enforcement}] ${v.policy}: ${v.urn}\n      ${v.message}`);
  console.log(`\nplan: wrote ${outDir}`);
  return invalid > 0 || mandatory.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof ConfigError || e instanceof StackFileError || e instanceof PriceBookError) console.error(e.message);
    else console.error(`plan failed: ${(e as Error)?.stack ?? e}`);
    process.exit(2);
  },
);
