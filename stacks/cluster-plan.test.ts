import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../components/testing/mocks";
const ROOT = join(__dirname, "..");

const work = mkdtempSync(join(tmpdir(), "cluster-plan-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `npm run plan` for a stack; policy findings elsewhere may fail the run, but the plan must be written. */
function plan(stack: "prod" | "dr"): RecordedResource[] {
  const out = join(work, stack);
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "stacks/plan/cli.ts"), "--stack", stack, "--out", out], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.stderr).not.toMatch(/no mock for invoke/);
  expect(r.stdout).toContain("plan: wrote");
  return JSON.parse(readFileSync(join(out, "resources.json"), "utf8"));
}

const count = (rs: RecordedResource[], type: string) => rs.filter((r) => r.type === type).length;

describe("the stacks' plans", () => {
  it("prod is GKE: cluster, four pools (and spot's on-demand fallback) and Workload Identity, and nothing on AWS", () => {
    const rs = plan("prod");
    expect(count(rs, "pitchey:cluster:GkeCluster")).toBe(1);
    expect(count(rs, "gcp:container/cluster:Cluster")).toBe(1);
    expect(rs.filter((r) => r.type === "gcp:container/nodePool:NodePool").map((r) => r.props.name).sort()).toEqual([
      "general",
      "gpu",
      "sandbox",
      "spot",
      "spot-fallback",
    ]);
    // The processors' bindings; the backup copy and Velero bind their own accounts beside them.
    expect(rs.filter((r) => r.type === "gcp:serviceaccount/iAMMember:IAMMember" && r.name.includes("-identities-wi-"))).toHaveLength(5);
    expect(rs.filter((r) => r.type.startsWith("aws:") || r.type === "pitchey:cluster:EksCluster")).toEqual([]);
  });

  it("dr is EKS: cluster, four node groups and IRSA roles, and nothing on GCP", () => {
    const rs = plan("dr");
    expect(count(rs, "pitchey:cluster:EksCluster")).toBe(1);
    expect(count(rs, "aws:eks/cluster:Cluster")).toBe(1);
    expect(rs.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup").map((r) => r.props.nodeGroupName).sort()).toEqual([
      "pitchey-containers-dr-general",
      "pitchey-containers-dr-gpu",
      "pitchey-containers-dr-sandbox",
      "pitchey-containers-dr-spot",
    ]);
    expect(rs.filter((r) => r.type === "aws:iam/role:Role" && r.name.includes("-irsa-"))).toHaveLength(5);
    expect(rs.filter((r) => r.type.startsWith("gcp:") || r.type === "pitchey:cluster:GkeCluster")).toEqual([]);
  });
});
