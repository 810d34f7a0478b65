import { describe, expect, it } from "vitest";
import { scaledObjectSpec } from "./builders";
import { PROCESSOR_FIXTURES } from "./test-fixtures";

/**
 * The rendered ScaledObjects run through the HPA controller's documented algorithm (kube-controller-manager's
 * replica calculator and its behavior handling: 10 % tolerance, max over metrics, stabilization windows, rate
 * policies over their periods) and are held to the playbook's scaling loop.
 */

// The playbook's figures, as the stack config's defaults (stacks/cluster.test.ts keeps the two equal).
const config = { processors: PROCESSOR_FIXTURES };
type ProcessorName = keyof typeof PROCESSOR_FIXTURES;
const PROCESSOR_NAMES = Object.keys(PROCESSOR_FIXTURES) as ProcessorName[];
const JOB_TYPE_OF: Record<ProcessorName, string> = {
  "video-processor": "video",
  "document-processor": "document",
  "ai-inference": "inference",
  "media-transcoder": "media",
  "code-executor": "code",
};

/** cpu and memory as utilization % of requests (what the HPA reads from metrics.k8s.io); queue as the query's total. */
interface Load {
  readonly cpu: number;
  readonly memory: number;
  readonly queue: number;
}

const TOLERANCE = 0.1;
const SYNC_SECONDS = 15;

function proposal(trigger: any, load: Load, current: number): number {
  let ratio: number;
  if (trigger.type === "cpu" || trigger.type === "memory") ratio = load[trigger.type as "cpu" | "memory"] / Number(trigger.metadata.value);
  else if (trigger.type === "postgresql") {
    const target = Number(trigger.metadata.targetQueryValue);
    // External metrics default to AverageValue in KEDA: the total is divided among the current replicas.
    ratio = (trigger.metricType ?? "AverageValue") === "Value" ? load.queue / target : load.queue / current / target;
  } else return 0;
  return Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(ratio * current);
}

interface Sim {
  replicas: number;
  history: { t: number; recommendation: number }[];
  events: { t: number; change: number }[];
}

/** One HPA sync at time t; returns the new replica count. */
function sync(spec: any, sim: Sim, load: Load, t: number): number {
  const b = spec.advanced.horizontalPodAutoscalerConfig.behavior;
  const current = sim.replicas;
  const desired = Math.max(...spec.triggers.map((tr: any) => proposal(tr, load, current)));
  sim.history.push({ t, recommendation: desired });
  const within = (w: number) => sim.history.filter((h) => h.t > t - w || h.t === t);
  const up = Math.min(desired, ...within(b.scaleUp.stabilizationWindowSeconds ?? 0).map((h) => h.recommendation));
  const down = Math.max(desired, ...within(b.scaleDown.stabilizationWindowSeconds ?? 300).map((h) => h.recommendation));
  let next = current;
  if (next < up) next = up;
  if (next > down) next = down;
  const changed = (sign: 1 | -1, period: number) =>
    sim.events.filter((e) => e.t > t - period && Math.sign(e.change) === sign).reduce((n, e) => n + Math.abs(e.change), 0);
  if (next > current) {
    const limits = b.scaleUp.policies.map((p: any) => current - changed(1, p.periodSeconds) + p.value);
    next = Math.min(next, b.scaleUp.selectPolicy === "Min" ? Math.min(...limits) : Math.max(...limits), spec.maxReplicaCount);
  } else if (next < current) {
    const limits = b.scaleDown.policies.map((p: any) => current + changed(-1, p.periodSeconds) - p.value);
    next = Math.max(next, b.scaleDown.selectPolicy === "Max" ? Math.min(...limits) : Math.max(...limits), spec.minReplicaCount);
  }
  if (next !== current) sim.events.push({ t, change: next - current });
  sim.replicas = next;
  return next;
}

function run(spec: any, start: number, seconds: number, load: (t: number) => Load, from = 0, sim?: Sim) {
  const s: Sim = sim ?? { replicas: start, history: [], events: [] };
  const trace: { t: number; replicas: number }[] = [];
  for (let t = from; t <= from + seconds; t += SYNC_SECONDS) trace.push({ t, replicas: sync(spec, s, load(t), t) });
  return { sim: s, trace };
}

const idle: Load = { cpu: 0, memory: 0, queue: 0 };

describe.each(PROCESSOR_NAMES.map((n) => [n] as [ProcessorName]))("%s scales as the playbook's policy", (name) => {
  const policy = config.processors[name].scaling;
  const spec = scaledObjectSpec({ name, jobType: JOB_TYPE_OF[name], config: config.processors[name], triggerAuthenticationName: "jobs-database" }) as any;

  it("scales up once the whole queue exceeds target × 1.1, at any replica count", () => {
    for (const replicas of [policy.minReplicas, Math.max(policy.minReplicas, Math.ceil(policy.maxReplicas / 2))]) {
      const above = run(spec, replicas, 0, () => ({ ...idle, queue: Math.floor(policy.targetQueueDepth * 1.1) + 1 }));
      expect(above.trace[0].replicas, `${replicas} replicas, queue just past target × 1.1`).toBeGreaterThan(replicas);
      const within = run(spec, replicas, 0, () => ({ ...idle, queue: policy.targetQueueDepth }));
      expect(within.trace[0].replicas, `${replicas} replicas, queue at target`).toBe(replicas);
    }
  });

  it("scales up on cpu or memory past target × 1.1 alone", () => {
    const start = policy.minReplicas;
    expect(run(spec, start, 0, () => ({ ...idle, cpu: policy.targetCPU * 1.2 })).trace[0].replicas).toBeGreaterThan(start);
    expect(run(spec, start, 0, () => ({ ...idle, memory: Math.min(100, policy.targetMemory * 1.15) })).trace[0].replicas).toBeGreaterThan(start);
  });

  it("adds at most scaleUpRate pods per cooldown under sustained overload, and acts at once", () => {
    const { trace } = run(spec, policy.minReplicas, 4 * policy.cooldownPeriod, () => ({ cpu: 100, memory: 100, queue: 100 * policy.targetQueueDepth }));
    expect(trace[0].replicas).toBe(Math.min(policy.maxReplicas, policy.minReplicas + policy.scaleUpRate));
    for (const a of trace) {
      const windowStart = trace.filter((b) => b.t > a.t - policy.cooldownPeriod && b.t <= a.t)[0];
      const before = trace.find((b) => b.t === windowStart.t - SYNC_SECONDS)?.replicas ?? policy.minReplicas;
      expect(a.replicas - before, `added within the cooldown ending at ${a.t}s`).toBeLessThanOrEqual(policy.scaleUpRate);
    }
    const after = (k: number) => trace.find((p) => p.t === k * policy.cooldownPeriod)!.replicas;
    for (const k of [1, 2, 3]) expect(after(k)).toBe(Math.min(policy.maxReplicas, policy.minReplicas + (k + 1) * policy.scaleUpRate));
  });

  it("holds a scale-up for a cooldown, then removes at most scaleDownRate pods per cooldown", () => {
    const busy = run(spec, policy.minReplicas, policy.cooldownPeriod, () => ({ cpu: 100, memory: 100, queue: 100 * policy.targetQueueDepth }));
    const peak = busy.sim.replicas;
    const lastUp = Math.max(...busy.sim.events.map((e) => e.t));
    const start = policy.cooldownPeriod + SYNC_SECONDS;
    const { trace } = run(spec, peak, 4 * policy.cooldownPeriod, () => idle, start, busy.sim);
    for (const p of trace.filter((x) => x.t < lastUp + policy.cooldownPeriod)) expect(p.replicas, `at ${p.t}s`).toBe(peak);
    let previous = peak;
    const downs = busy.sim.events.filter((e) => e.change < 0);
    expect(downs.length).toBeGreaterThan(0);
    for (const e of downs) expect(-e.change).toBeLessThanOrEqual(policy.scaleDownRate);
    for (let i = 1; i < downs.length; i++) expect(downs[i].t - downs[i - 1].t).toBeGreaterThanOrEqual(policy.cooldownPeriod);
    for (const p of trace) {
      expect(p.replicas).toBeLessThanOrEqual(previous);
      expect(p.replicas).toBeGreaterThanOrEqual(policy.minReplicas);
      previous = p.replicas;
    }
  });

  it("does not scale down while any metric is within 10 % of its target", () => {
    const start = policy.maxReplicas;
    const { trace } = run(spec, start, 2 * policy.cooldownPeriod, () => ({ ...idle, cpu: policy.targetCPU * 0.95 }));
    expect(trace.at(-1)!.replicas).toBe(start);
  });
});
