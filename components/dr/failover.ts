/**
 * Staged failover, as the playbook's traffic restoration runs it: 10 %, then 50 %, then 100 % of traffic on the
 * standby region, and back to 0 to fail back. One setting, `failover.phase`, selects the stage; everything a stage
 * changes is derived here so the load balancer, the standby's processors and its database never disagree.
 */

export const FAILOVER_PHASES = [0, 10, 50, 100] as const;
export type FailoverPhase = (typeof FAILOVER_PHASES)[number];

export interface PoolWeights {
  /** Share of traffic for the primary region's pool, in [0, 1]. */
  readonly primary: number;
  /** Share for the standby (DR) region's pool, in [0, 1]; the two sum to 1. */
  readonly standby: number;
}

export interface FailoverPlan {
  readonly phase: FailoverPhase;
  readonly poolWeights: PoolWeights;
  /** At 100 % the standby's replica database becomes the primary. */
  readonly promoteStandbyDatabase: boolean;
  /** Fraction of production's processor floors the standby must hold at this phase. */
  readonly floorFraction: number;
}

export function isFailoverPhase(v: unknown): v is FailoverPhase {
  return (FAILOVER_PHASES as readonly unknown[]).includes(v);
}

export function failoverPhase(phase: FailoverPhase): FailoverPlan {
  if (!isFailoverPhase(phase)) throw new RangeError(`failover.phase: expected one of ${FAILOVER_PHASES.join(", ")}, got ${String(phase)}`);
  const standby = phase / 100;
  return {
    phase,
    poolWeights: { primary: 1 - standby, standby },
    promoteStandbyDatabase: phase === 100,
    floorFraction: standby,
  };
}

/**
 * A standby processor's minimum replicas at a phase: its warm floor, raised to its share of production's floor
 * (rounded up, so 10 % of a floor of 2 is one pod), never above its maximum.
 */
export function standbyFloor(phase: FailoverPhase, warm: number, production: number, max: number): number {
  const share = Math.ceil(production * failoverPhase(phase).floorFraction);
  return Math.min(max, Math.max(warm, share));
}
