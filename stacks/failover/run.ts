import { FAILOVER_PHASES, failoverPhase, type FailoverPhase } from "../../components/dr/failover";
import type { DrThresholds } from "./thresholds";

/** The part of a Pulumi Automation API stack the failover commands use (a fake in tests). */
export interface FailoverStack {
  readonly name: string;
  getConfig(key: string): Promise<string | undefined>;
  /** Every config key of the stack as stored (`project:key` → string, JSON for objects); secrets may be absent. */
  getAllConfig(): Promise<Record<string, string>>;
  /** `path` form: `failover.phase`. */
  setConfig(key: string, value: string): Promise<void>;
  up(onOutput: (line: string) => void): Promise<{ result: string }>;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Live checks against the DR site (Prometheus in production use; fakes in tests). */
export interface FailoverChecks {
  /** Seconds the DR replica is behind its primary. */
  replicaLagSeconds(): Promise<number>;
  /** Every DR processor has its floor of ready pods. */
  drHealthy(): Promise<CheckResult>;
  /** The newest backup run succeeded within `maxAgeSeconds` (drill only). */
  backupFresh(maxAgeSeconds: number): Promise<CheckResult>;
  /** The newest backup restored and verified within `maxAgeSeconds` (drill only). */
  restoreVerified(maxAgeSeconds: number): Promise<CheckResult>;
}

export interface RunOptions {
  readonly stack: FailoverStack;
  readonly checks: FailoverChecks;
  /** The stack's own thresholds (its config, defaults applied). */
  readonly thresholds: DrThresholds;
  readonly dryRun: boolean;
  readonly log: (line: string) => void;
}

export class Refusal extends Error {
  override name = "Refusal";
}

const PHASE_KEY = "failover.phase";

async function currentPhase(stack: FailoverStack): Promise<FailoverPhase> {
  const raw = await stack.getConfig(PHASE_KEY);
  const n = raw === undefined ? 0 : Number(raw);
  if (!(FAILOVER_PHASES as readonly number[]).includes(n)) throw new Refusal(`${PHASE_KEY} on stack ${stack.name} is ${JSON.stringify(raw)}, not one of ${FAILOVER_PHASES.join(", ")}; fix the stack config first`);
  return n as FailoverPhase;
}

async function lagCheck(o: RunOptions): Promise<CheckResult> {
  const lag = await o.checks.replicaLagSeconds();
  const rpo = o.thresholds.rpoSeconds;
  return { name: "replica-lag", ok: Number.isFinite(lag) && lag <= rpo, detail: `${Math.round(lag)} s behind the primary (RPO ${rpo} s)` };
}

function report(o: RunOptions, stage: string, results: CheckResult[]): void {
  for (const r of results) o.log(`${stage}: ${r.ok ? "pass" : "FAIL"} ${r.name}: ${r.detail}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Refusal(`${stage} failed: ${failed.map((r) => `${r.name} (${r.detail})`).join("; ")}; nothing was changed${stage === "post-check" ? " after the update" : ""}`);
}

async function apply(o: RunOptions, phase: FailoverPhase): Promise<void> {
  const plan = failoverPhase(phase);
  o.log(
    `${o.dryRun ? "would set" : "setting"} ${PHASE_KEY}=${phase} on ${o.stack.name}: weights primary ${plan.poolWeights.primary} / standby ${plan.poolWeights.standby}, ` +
      `database ${plan.promoteStandbyDatabase ? "promoted" : "replica"}`,
  );
  if (o.dryRun) {
    o.log(`would run: pulumi up -s ${o.stack.name}`);
    return;
  }
  await o.stack.setConfig(PHASE_KEY, String(phase));
  const r = await o.stack.up((line) => o.log(`up: ${line.trimEnd()}`));
  if (r.result !== "succeeded") throw new Refusal(`pulumi up on ${o.stack.name} ended ${r.result}; ${PHASE_KEY} is now ${phase} in the stack config, re-run or set it back`);
}

/** `npm run failover -- --to dr --percent N`: pre-checks, set the phase, `up`, post-checks. */
export async function failover(o: RunOptions, percent: FailoverPhase): Promise<void> {
  if (percent === 0) throw new Refusal("--percent 0 is a failback; use npm run failback");
  const from = await currentPhase(o.stack);
  o.log(`failover: ${o.stack.name} from phase ${from} to ${percent}`);
  if (percent < from) throw new Refusal(`--percent ${percent} is below the current phase ${from}; moving traffic back is npm run failback`);
  if (from === 100) throw new Refusal(`${o.stack.name} is already at phase 100 (its database is promoted)`);
  report(o, "pre-check", [await lagCheck(o), await o.checks.drHealthy()]);
  await apply(o, percent);
  if (!o.dryRun) report(o, "post-check", [await o.checks.drHealthy()]);
}

/**
 * `npm run failback`: traffic back to the primary (phase 0). From phase 100 the DR database is a primary, so the
 * production database must have been rebuilt as its replica first (`--primary-rebuilt` says it has).
 */
export async function failback(o: RunOptions, primaryRebuilt: boolean): Promise<void> {
  const from = await currentPhase(o.stack);
  o.log(`failback: ${o.stack.name} from phase ${from} to 0`);
  if (from === 0) {
    o.log("failback: already at phase 0; nothing to do");
    return;
  }
  if (from === 100 && !primaryRebuilt) {
    throw new Refusal(
      "the DR database was promoted at phase 100: rebuild production's database as its replica first (docs/runbooks/disaster-recovery.md, Failback), then re-run with --primary-rebuilt",
    );
  }
  await apply(o, 0);
}

/** `npm run dr:drill`: every failover pre-check plus the backups' freshness and restore verification, without moving traffic. */
export async function drill(o: RunOptions): Promise<boolean> {
  const phase = await currentPhase(o.stack);
  const results = [
    { name: "phase", ok: phase === 0, detail: `${PHASE_KEY} is ${phase}${phase === 0 ? "" : " (a drill expects no failover in progress)"}` },
    await lagCheck(o),
    await o.checks.drHealthy(),
    await o.checks.backupFresh(o.thresholds.backupMaxAgeSeconds),
    await o.checks.restoreVerified(o.thresholds.verifiedBackupMaxAgeSeconds),
  ];
  for (const r of results) o.log(`drill: ${r.ok ? "pass" : "FAIL"} ${r.name}: ${r.detail}`);
  const ok = results.every((r) => r.ok);
  o.log(`drill: ${ok ? "PASS" : "FAIL"} (${results.filter((r) => r.ok).length}/${results.length} checks)`);
  return ok;
}
