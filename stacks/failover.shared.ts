import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { parse, stringify } from "yaml";
import type { runPlan } from "./plan/run";

export type Records = Awaited<ReturnType<typeof runPlan>>["resources"];
const CF = (t: string) => `cloudflare:index/${t}`;

/** The dr stack file with `failover.phase` set, as `npm run plan -- --config` would read it. */
export function drWithPhase(phase: number): string {
  const doc = parse(readFileSync(join(__dirname, "..", "Pulumi.dr.yaml"), "utf8"));
  doc.config["pitchey-containers:failover"] = { phase };
  const file = join(mkdtempSync(join(tmpdir(), "dr-phase-")), "Pulumi.dr.yaml");
  writeFileSync(file, stringify(doc));
  return file;
}

/** The load balancer's random-steering weight of each region's pool, by the origin the pool sends to. */
export function weightsByOrigin(resources: Records): Record<string, number> {
  const of = (t: string) => resources.filter((r) => r.type === CF(t));
  const lbs = of("loadBalancer:LoadBalancer");
  expect(lbs).toHaveLength(1);
  const lb = lbs[0]!.props as any;
  expect(lb.steeringPolicy).toBe("random");
  const poolId = (name: string) => `${CF("loadBalancerPool:LoadBalancerPool")}::${name}-id`;
  const out: Record<string, number> = {};
  for (const pool of of("loadBalancerPool:LoadBalancerPool")) {
    const origins = (pool.props as any).origins as Array<{ address: string }>;
    expect(origins).toHaveLength(1);
    out[origins[0]!.address] = lb.randomSteering.poolWeights[poolId(pool.name)];
  }
  return out;
}
