import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isFailoverPhase } from "../../components/dr/failover";
import { BACKUP_METRICS } from "../../components/backup/builders";
import { RESTORE_METRICS } from "../../components/backup/restore-builders";
import { ConfigError, PROJECT } from "../config";
import { drill, failback, failover, Refusal, type FailoverChecks, type FailoverStack, type RunOptions } from "./run";
import { drThresholds, rawPlatformConfig, type DrThresholds } from "./thresholds";

const hours = (seconds: number) => `${Number((seconds / 3600).toFixed(2))} h`;

const USAGE = [
  "usage: npm run failover -- --to dr --percent 10|50|100 [--dry-run]",
  "       npm run failback -- [--primary-rebuilt] [--dry-run]",
  "       npm run dr:drill",
  "env: PROMETHEUS_URL (the DR site's Prometheus), PULUMI_STACK (default dr)",
].join("\n");

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Parsed {
  readonly command: "failover" | "failback" | "drill";
  readonly percent?: 10 | 50 | 100;
  readonly dryRun: boolean;
  readonly primaryRebuilt: boolean;
}

/** Bad input names the flag and exits 2 before anything is read or changed. */
export function parseCommand(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== "failover" && command !== "failback" && command !== "drill") throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  let v;
  try {
    v = parseArgs({
      args: [...rest],
      options: { to: { type: "string" }, percent: { type: "string" }, "dry-run": { type: "boolean" }, "primary-rebuilt": { type: "boolean" } },
      strict: true,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (command === "failover") {
    if (v.to !== "dr") throw new UsageError(`--to: expected dr, got ${JSON.stringify(v.to ?? "")}`);
    const n = Number(v.percent);
    if (!isFailoverPhase(n) || n === 0) throw new UsageError(`--percent: expected 10, 50 or 100, got ${JSON.stringify(v.percent ?? "")}`);
    return { command, percent: n as 10 | 50 | 100, dryRun: Boolean(v["dry-run"]), primaryRebuilt: false };
  }
  if (v.to !== undefined || v.percent !== undefined) throw new UsageError(`--to/--percent apply to failover only`);
  return { command, dryRun: Boolean(v["dry-run"]), primaryRebuilt: Boolean(v["primary-rebuilt"]) };
}

/**
 * Runs a parsed command against a stack and checks; returns the exit code. The thresholds are the stack's own (its
 * config parsed as the program parses it), so a drill judges by the figures that stack's alerts use.
 */
export async function runCommand(p: Parsed, stack: FailoverStack, checks: FailoverChecks, log: (l: string) => void): Promise<number> {
  let thresholds: DrThresholds;
  try {
    thresholds = drThresholds(rawPlatformConfig(PROJECT, await stack.getAllConfig()), stack.name);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log(`refused: ${e.message}`);
    return 1;
  }
  log(
    `${p.command}: thresholds from stack ${stack.name}: replica lag ${thresholds.rpoSeconds} s, newest backup ${hours(thresholds.backupMaxAgeSeconds)}, ` +
      `newest verified backup ${hours(thresholds.verifiedBackupMaxAgeSeconds)}`,
  );
  const o: RunOptions = { stack, checks, thresholds, dryRun: p.dryRun, log };
  try {
    if (p.command === "failover") await failover(o, p.percent!);
    else if (p.command === "failback") await failback(o, p.primaryRebuilt);
    else return (await drill(o)) ? 0 : 1;
    log(`${p.command}: ${p.dryRun ? "dry run complete, nothing changed" : "done"}`);
    return 0;
  } catch (e) {
    if (e instanceof Refusal) {
      log(`refused: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** The real stack, through the Automation API (needs the pulumi CLI). */
async function automationStack(stackName: string): Promise<FailoverStack> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const s = await LocalWorkspace.createOrSelectStack({ stackName, workDir: resolve(__dirname, "..", "..") });
  const project = PROJECT;
  return {
    name: stackName,
    async getAllConfig() {
      return Object.fromEntries(Object.entries(await s.getAllConfig()).map(([k, v]) => [k, v.value]));
    },
    async getConfig(key) {
      const all = await s.getAllConfig();
      const top = all[`${project}:${key.split(".")[0]}`];
      if (!top) return undefined;
      const parsed = JSON.parse(top.value) as Record<string, unknown>;
      const v = key.split(".").slice(1).reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], parsed);
      return v === undefined ? undefined : String(v);
    },
    async setConfig(key, value) {
      await s.setConfig(`${project}:${key}`, { value }, true);
    },
    async up(onOutput) {
      const r = await s.up({ onOutput });
      return { result: r.summary.result };
    },
  };
}

/** Checks through the DR site's Prometheus HTTP API. */
export function prometheusChecks(baseUrl: string, fetchImpl: typeof fetch = fetch): FailoverChecks {
  const query = async (q: string): Promise<number | undefined> => {
    const res = await fetchImpl(`${baseUrl.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (!res.ok) throw new Refusal(`Prometheus at ${baseUrl} answered ${res.status} to ${q}`);
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const v = body.data?.result?.[0]?.value?.[1];
    return v === undefined ? undefined : Number(v);
  };
  return {
    async replicaLagSeconds() {
      return (await query("max(cnpg_pitchey_heartbeat_lag_seconds)")) ?? Number.POSITIVE_INFINITY;
    },
    async drHealthy() {
      const short = await query('sum(kube_deployment_spec_replicas{namespace="processors"} - kube_deployment_status_replicas_available{namespace="processors"})');
      return { name: "dr-health", ok: short === 0, detail: short === undefined ? "no deployment metrics" : `${short} processor pod(s) short of their floors` };
    },
    async backupFresh(maxAgeSeconds) {
      // A success time of 0 means no run has succeeded: as stale as no series at all.
      const age = await query(`time() - max(${BACKUP_METRICS.lastSuccess} > 0)`);
      return {
        name: "backup-fresh",
        ok: age !== undefined && age <= maxAgeSeconds,
        detail: age === undefined ? "no backup run has succeeded" : `last successful backup ${hours(age)} ago (allowed ${hours(maxAgeSeconds)})`,
      };
    },
    async restoreVerified(maxAgeSeconds) {
      const age = await query(`time() - max(${RESTORE_METRICS.lastSuccess} > 0)`);
      return {
        name: "restore-verification",
        ok: age !== undefined && age < maxAgeSeconds,
        detail: age === undefined ? "no restore verification has succeeded" : `last verified ${hours(age)} ago (allowed ${hours(maxAgeSeconds)})`,
      };
    },
  };
}

async function main(): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommand(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  const prom = process.env.PROMETHEUS_URL;
  if (!prom) {
    console.error(`PROMETHEUS_URL: required (the DR site's Prometheus, for the pre-checks)\n${USAGE}`);
    return 2;
  }
  const stack = await automationStack(process.env.PULUMI_STACK || "dr");
  return runCommand(parsed, stack, prometheusChecks(prom), (l) => console.log(l));
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`failover: ${(e as Error)?.message ?? e}`);
      process.exit(1);
    },
  );
}
