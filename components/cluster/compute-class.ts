import { z } from "zod";
import { SPOT_FIRST_CLASS } from "./scheduling";
import { SPOT_FALLBACK_POOL } from "./types";

export const COMPUTE_CLASS_API_VERSION = "cloud.google.com/v1";

/**
 * GKE's spot-first ComputeClass over the two node pools this program declares: when pods that select it are
 * pending, GKE's autoscaler grows the spot pool first and the on-demand fallback only when spot cannot be had.
 * - `nodepools` rules, not machine families: nodes come only from pools this program declares (shielded, private,
 *   our node account), never from auto-created ones, so `nodePoolAutoCreation` stays off.
 * - `DoNotScaleUp`: when neither pool can grow, pods wait rather than land on nodes outside the class.
 * - No active migration: moving a pod back to spot would cut an in-flight job short for a discount; pods return to
 *   spot as they are replaced (deploys, scale-down) instead.
 */
export function spotFirstComputeClass(spotPool: string) {
  return {
    apiVersion: COMPUTE_CLASS_API_VERSION,
    kind: "ComputeClass",
    metadata: { name: SPOT_FIRST_CLASS },
    spec: {
      priorities: [{ nodepools: [spotPool] }, { nodepools: [SPOT_FALLBACK_POOL] }],
      whenUnsatisfiable: "DoNotScaleUp",
      nodePoolAutoCreation: { enabled: false },
      activeMigration: { optimizeRulePriority: false },
    },
  };
}

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);

/**
 * The fields of GKE's ComputeClass (`cloud.google.com/v1`) this program sets, strictly: a misspelt field fails the
 * plan instead of being pruned by the API server. Names as in GKE's ComputeClass CRD reference.
 */
export const COMPUTE_CLASS_SCHEMA = z.strictObject({
  apiVersion: z.literal(COMPUTE_CLASS_API_VERSION),
  kind: z.literal("ComputeClass"),
  metadata: z.object({ name, labels: z.record(z.string(), z.string()).optional() }).loose(),
  spec: z.strictObject({
    priorities: z.array(z.strictObject({ nodepools: z.array(name).min(1) })).min(1),
    whenUnsatisfiable: z.enum(["ScaleUpAnyway", "DoNotScaleUp"]),
    nodePoolAutoCreation: z.strictObject({ enabled: z.boolean() }),
    activeMigration: z.strictObject({ optimizeRulePriority: z.boolean() }),
  }),
});
