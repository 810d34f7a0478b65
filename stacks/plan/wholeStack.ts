import { join } from "node:path";
import type { RecordedResource } from "../../components/testing/mocks";
import { runPlan, type PlanRun } from "./run";

/** Test helper: plans a committed stack file once per test file (each file runs in its own worker). */
export async function planStack(stack: string): Promise<PlanRun & { ofType(type: string): RecordedResource[]; k8s(kind: string): any[] }> {
  const plan = await runPlan(stack, join(__dirname, "..", "..", `Pulumi.${stack}.yaml`));
  return {
    ...plan,
    ofType: (type) => plan.resources.filter((r) => r.type === type),
    k8s: (kind) => plan.resources.filter((r) => r.type.startsWith("kubernetes:") && (r.props as any).kind === kind).map((r) => r.props),
  };
}
