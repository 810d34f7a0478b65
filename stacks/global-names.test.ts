import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RecordedResource } from "../components/testing/mocks";
import { collisions, globalNames, type GlobalName } from "./plan/global-names";

const ROOT = join(__dirname, "..");
const work = mkdtempSync(join(tmpdir(), "global-names-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A second stack of the same cloud, in the same project / account and region, with its own names where the stack
 * file names things (cluster, backup bucket, origin host): everything else the program derives.
 */
function variant(stack: "prod" | "dr", cluster: string): string {
  const doc = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
  const c = doc.config;
  c["pitchey-containers:cluster"].name = cluster;
  c["pitchey-containers:backups"].bucket = `${cluster}-backups`;
  c["pitchey-containers:edge"].cloudflare.originHost = `origin-${cluster}.pitchey.com`;
  const file = join(work, `Pulumi.${cluster}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function plan(stack: string, config: string): RecordedResource[] {
  const out = join(work, stack);
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "stacks/plan/cli.ts"), "--stack", stack, "--config", config, "--out", out],
    { cwd: ROOT, encoding: "utf8", timeout: 240_000 },
  );
  expect(r.stdout, r.stderr).toContain("plan: wrote");
  return JSON.parse(readFileSync(join(out, "resources.json"), "utf8"));
}

const names: Record<string, GlobalName[]> = {};
beforeAll(() => {
  names.prod = globalNames(plan("prod", join(ROOT, "Pulumi.prod.yaml")));
  names.dr = globalNames(plan("dr", join(ROOT, "Pulumi.dr.yaml")));
  names.analytics = globalNames(plan("analytics", variant("prod", "pitchey-analytics")));
  names["analytics-dr"] = globalNames(plan("analytics-dr", variant("dr", "pitchey-analytics-dr")));
}, 900_000);

describe("global names", () => {
  it("covers what each cloud keeps unique: service accounts, key rings, registries, clusters, networks, ECR, KMS aliases, log groups, budgets", () => {
    const kinds = (s: string) => new Set(names[s].map((n) => n.kind));
    for (const k of ["gcp:serviceaccount/account", "gcp:kms/keyRing", "gcp:artifactregistry/repository", "gcp:container/cluster", "gcp:compute/network", "gcp:storage/bucket"]) {
      expect(kinds("prod"), k).toContain(k);
    }
    for (const k of ["aws:eks/cluster", "aws:ecr/repository", "aws:kms/alias", "aws:cloudwatch/logGroup", "aws:budgets/budget", "aws:s3/bucket"]) expect(kinds("dr"), k).toContain(k);
  });

  it("never repeats a name within one stack", () => {
    for (const [stack, list] of Object.entries(names)) {
      const keys = list.map((n) => `${n.kind} ${n.scope} ${n.name}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i), stack).toEqual([]);
    }
  });

  it("gives every pair of stacks disjoint names: prod and dr, and a second stack of each cloud in the same project or account", () => {
    const stacks = Object.keys(names);
    for (const a of stacks) {
      for (const b of stacks) if (a < b) expect(collisions(names[a], names[b]), `${a} vs ${b}`).toEqual([]);
    }
  });

  it("derives Workload Identity account ids from the cluster name, within GCP's 6–30 characters", () => {
    const ids = names.prod.filter((n) => n.kind === "gcp:serviceaccount/account").map((n) => n.name);
    // The five processors, the nodes, the backup copy job and Velero.
    expect(ids).toHaveLength(8);
    expect(ids).toContain("pitchey-containers-velero");
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
      expect(id.startsWith("pitchey-containers-") || id.startsWith("pitchey-containers")).toBe(true);
    }
  });

  it("names the key ring with a random suffix, so a recreated stack does not meet the ring it cannot delete", () => {
    const rings = names.prod.filter((n) => n.kind === "gcp:kms/keyRing").map((n) => n.name);
    // The cluster's (Kubernetes secrets) and the backup copy's.
    expect(rings).toHaveLength(2);
    expect(rings).toEqual(expect.arrayContaining([expect.stringMatching(/^pitchey-containers-[0-9a-f]+$/), expect.stringMatching(/^pitchey-containers-backups-[0-9a-f]+$/)]));
  });
});
