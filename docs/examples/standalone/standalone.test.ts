import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../../../components/testing/mocks";

const mocks = new RecordingMocks();
let outputs: Record<string, unknown> = {};

beforeAll(async () => {
  await installMocks(mocks, "pitchey-standalone-processor", "example");
  // The program with no config at all: anything reading stack config would fail here.
  pulumi.runtime.setAllConfig({}, []);
  await pulumi.runtime.runInPulumiStack(async () => {
    const program = await import(join(__dirname, "index.ts"));
    outputs = { namespaceName: program.namespaceName, deployment: program.deployment };
    return outputs;
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}, 60_000);

const kinds = () => mocks.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => `${(r.props as any).kind}/${(r.props as any).metadata?.name}`);
const object = (kind: string, name: string) =>
  mocks.resources.map((r) => r.props as any).find((p) => p.kind === kind && p.metadata?.name === name);

describe("the stand-alone example program", () => {
  it("registers the two components and nothing from the platform's stacks", () => {
    expect(mocks.resources.filter((r) => r.type.startsWith("pitchey:")).map((r) => r.type).sort()).toEqual([
      "pitchey:namespace:WorkloadNamespace",
      "pitchey:processor:ProcessorService",
    ]);
    expect(mocks.resources.some((r) => /^(gcp|aws|cloudflare|docker-build):/.test(r.type))).toBe(false);
  });

  it("declares a guarded namespace: restricted pods, its quota, default-deny network", () => {
    expect(kinds()).toEqual(expect.arrayContaining(["Namespace/documents", "ResourceQuota/container-quota", "LimitRange/container-limits", "NetworkPolicy/default-deny"]));
    expect(object("Namespace", "documents").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(object("ResourceQuota", "container-quota").spec.hard).toEqual({ "requests.cpu": "4", "requests.memory": "4Gi" });
  });

  it("runs the processor with the hand-written settings: its image by digest, its limits, its scaling", () => {
    const d = object("Deployment", "document-processor");
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^ghcr\.io\/example\/document-processor@sha256:[0-9a-f]{64}$/);
    expect(c.resources.limits).toMatchObject({ cpu: "1", memory: "1Gi" });
    expect(c.env).toContainEqual({ name: "JOB_TYPE", value: "document" });
    expect(d.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    const so = object("ScaledObject", "document-processor");
    expect(so.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 4 });
    expect(so.spec.triggers.map((t: any) => t.type)).toEqual(["cpu", "memory", "postgresql"]);
    expect(kinds()).toEqual(expect.arrayContaining(["Service/document-processor", "PodDisruptionBudget/document-processor-pdb", "ServiceAccount/document-processor"]));
  });

  it("exports the namespace and Deployment names", async () => {
    const resolved = await new Promise<Record<string, unknown>>((done) => pulumi.output(outputs).apply((v) => done(v as Record<string, unknown>)));
    expect(resolved).toEqual({ namespaceName: "documents", deployment: "document-processor" });
  });
});
