import { failoverPhase, standbyFloor, type FailoverPlan } from "../components/dr/failover";
import { PROCESSOR_DEFAULTS, type PlatformConfig, type ProcessorName } from "./config";

/** A standby stack: its database follows another stack's, or traffic is already being moved to it. */
export const isStandby = (config: PlatformConfig) => Boolean(config.database.replicaOf) || config.failover.phase > 0;

/** What `failover.phase` promises on this stack; `undefined` on a primary stack. */
export function failoverPlan(config: PlatformConfig): FailoverPlan | undefined {
  return isStandby(config) ? failoverPhase(config.failover.phase) : undefined;
}

/**
 * A processor's config with its floor for the failover phase: on a standby stack the stack's own `minReplicas` is
 * the warm floor, raised towards production's (the playbook's) as the standby takes traffic.
 */
export function processorConfigFor(config: PlatformConfig, name: ProcessorName): PlatformConfig["processors"][ProcessorName] {
  const pc = config.processors[name];
  if (!isStandby(config)) return pc;
  const minReplicas = standbyFloor(config.failover.phase, pc.scaling.minReplicas, PROCESSOR_DEFAULTS[name].scaling.minReplicas, pc.scaling.maxReplicas);
  return { ...pc, scaling: { ...pc.scaling, minReplicas } };
}
