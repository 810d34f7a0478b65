import { beforeAll, describe, expect, it } from "vitest";
import { planStack } from "./plan/wholeStack";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("prod");
}, 120_000);

describe("prod stack outputs (GKE)", () => {
  it("exports the cluster name and a kubeconfig that asks gcloud's plugin for a token", () => {
    expect(plan.outputs.clusterName).toBe("pitchey-containers");
    const kc = JSON.parse(String(plan.outputs.kubeconfig));
    expect(kc.clusters[0].cluster.server).toMatch(/^https:\/\//);
    expect(kc.users[0].user.exec.command).toBe("gke-gcloud-auth-plugin");
  });
});
