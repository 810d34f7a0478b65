import { describe, expect, it } from "vitest";
import { parsePriceBook, priceBook, PriceBookError } from "./book";
import { allocatable, nodesNeeded } from "./capacity";
import { estimateCost, type CostRecord } from "./estimate";
import bookData from "./price-book.json";
import { KUBERNETES_VERSION } from "../versions";

const STACK = "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod";
const CLUSTER = "urn:pulumi:prod::p::pitchey:cluster:GkeCluster::c";
const TODAY = { today: new Date("2026-12-02T00:00:00Z") };
const H = 730;

const rec = (type: string, name: string, props: Record<string, any>, parent: string | null = CLUSTER): CostRecord => ({
  urn: `urn:pulumi:prod::p::${type}::${name}`,
  type,
  name,
  parent,
  props,
});

function gkeStack(pool: { machineType?: string; min?: number; max?: number; spot?: boolean } = {}): CostRecord[] {
  const { machineType = "n2-standard-4", min = 0, max = 10, spot = true } = pool;
  return [
    rec("pulumi:pulumi:Stack", "p-prod", {}, null),
    rec("pitchey:cluster:GkeCluster", "c", {}, STACK),
    rec("gcp:container/cluster:Cluster", "c-gke", { location: "us-west1" }),
    rec("gcp:container/nodePool:NodePool", "c-spot", {
      location: "us-west1",
      autoscaling: { totalMinNodeCount: min, totalMaxNodeCount: max },
      nodeConfig: { machineType, spot, diskSizeGb: 100, diskType: "pd-balanced", labels: { "pitchey.io/pool": "spot" } },
    }),
    rec(
      "kubernetes:apps/v1:Deployment",
      "video-deployment",
      {
        metadata: { name: "video-processor", annotations: { "pitchey.io/latency-p95-seconds": "600" } },
        spec: {
          template: {
            spec: {
              nodeSelector: { "pitchey.io/pool": "spot" },
              containers: [
                {
                  resources: { requests: { cpu: "2", memory: "4Gi" } },
                  env: [
                    { name: "MAX_CONCURRENT_JOBS", value: "2" },
                    { name: "JOB_COST_PER_SECOND_USD", value: "0.0001" },
                  ],
                },
              ],
            },
          },
        },
      },
      "urn:pulumi:prod::p::pitchey:processor:ProcessorService::video-processor",
    ),
    rec("pitchey:processor:ProcessorService", "video-processor", {}, STACK),
    rec("kubernetes:keda.sh/v1alpha1:ScaledObject", "video-so", { spec: { scaleTargetRef: { name: "video-processor" }, minReplicaCount: 2, maxReplicaCount: 10 } }),
  ];
}

const item = (e: ReturnType<typeof estimateCost>, what: RegExp) => e.items.find((i) => what.test(i.what))!;

describe("node allocatable", () => {
  it("follows GKE's published reservations for n2-standard-4 (4 vCPU, 16 GiB)", () => {
    const a = allocatable("gcp", { type: "n2-standard-4", vcpu: 4, memoryGiB: 16 });
    // CPU: 6 % + 1 % + 2 × 0.5 % of a core = 0.08; memory: 25 % of 4 + 20 % of 4 + 10 % of 8 = 2.6 GiB, plus 100 MiB eviction.
    expect(a.cpu).toBeCloseTo(3.92, 6);
    expect(a.memoryGiB).toBeCloseTo(16 - 2.6 - 100 / 1024, 6);
  });

  it("reserves 255 MiB + 11 MiB per pod on EKS (58 pods on an xlarge)", () => {
    const a = allocatable("aws", { type: "m6i.xlarge", vcpu: 4, memoryGiB: 16 });
    expect(a.memoryGiB).toBeCloseTo(16 - (255 + 11 * 58 + 100) / 1024, 6);
  });

  it("packs first-fit decreasing and refuses a pod no node can hold", () => {
    const node = { cpu: 4, memoryGiB: 16, gpu: 0 };
    expect(nodesNeeded(Array(5).fill({ cpu: 1.5, memoryGiB: 1, gpu: 0 }), node)).toBe(3);
    expect(nodesNeeded([{ cpu: 5, memoryGiB: 1, gpu: 0 }], node)).toBe(Infinity);
  });
});

describe("estimateCost: one pool, one processor, by hand", () => {
  // n2-standard-4 less GKE's reservations and the daemon reserve: 3.92 − 0.2 = 3.72 CPU, 13.302 − 0.5 = 12.802 GiB.
  // A 2 CPU / 4 GiB pod takes max(2 / 3.72, 4 / 12.802) = 0.5376 of a node, so one pod per node.
  const share = 2 / 3.72;
  const spot = 0.047204;

  it("prices the pool's nodes at what the processor needs at min and max replicas", () => {
    const e = estimateCost(gkeStack(), priceBook(), TODAY);
    const pool = item(e, /^spot nodes/);
    const pods = item(e, /^video-processor pods/);
    expect(pool.quantity).toEqual({ floor: 2, ceiling: 10 });
    // Pool line + processor line = every node's price: 2 nodes at the floor, 10 at the ceiling.
    expect(pool.monthly.floor + pods.monthly.floor).toBeCloseTo(2 * spot * H, 6);
    expect(pool.monthly.ceiling + pods.monthly.ceiling).toBeCloseTo(10 * spot * H, 6);
    expect(pods.monthly.ceiling).toBeCloseTo(10 * share * spot * H, 6);
    expect(item(e, /^spot boot disks/).monthly.ceiling).toBeCloseTo(10 * 100 * 0.1, 6);
    expect(item(e, /GKE cluster management/).monthly.floor).toBeCloseTo(0.1 * H, 6);
  });

  it("derives a job-second's price from the pod's share of its node and its concurrency", () => {
    const [p] = estimateCost(gkeStack(), priceBook(), TODAY).processors;
    expect(p.derivedCostPerSecondUsd).toBeCloseTo((share * spot) / 3600 / 2, 12);
    expect(p.configuredCostPerSecondUsd).toBe(0.0001);
    expect(p.costPerJobAtP95Usd).toBeCloseTo(0.0001 * 600, 9);
  });

  it("a bigger machine type packs three pods per node: 4 nodes at the ceiling instead of 10", () => {
    // n2-standard-8: 8 − 0.09 − 0.2 = 7.71 CPU → 3 pods of 2 CPU; 10 pods → 4 nodes, 2 pods → 1 node.
    const e = estimateCost(gkeStack({ machineType: "n2-standard-8" }), priceBook(), TODAY);
    const pool = item(e, /^spot nodes/);
    const pods = item(e, /^video-processor pods/);
    expect(pool.quantity).toEqual({ floor: 1, ceiling: 4 });
    expect(pool.monthly.ceiling + pods.monthly.ceiling).toBeCloseTo(4 * 0.094408 * H, 6);
  });

  it("a lower maxNodes caps the ceiling and says scale-out stops there", () => {
    const e = estimateCost(gkeStack({ max: 6 }), priceBook(), TODAY);
    expect(item(e, /^spot nodes/).quantity.ceiling).toBe(6);
    expect(e.warnings.join("\n")).toMatch(/pool spot: processors at maxReplicas need 10 n2-standard-4 node\(s\), but the pool's maxNodes is 6/);
  });

  it("on-demand pools use the on-demand price", () => {
    const e = estimateCost(gkeStack({ spot: false }), priceBook(), TODAY);
    const both = item(e, /^spot nodes/).monthly.floor + item(e, /^video-processor pods/).monthly.floor;
    expect(both).toBeCloseTo(2 * 0.194236 * H, 6);
  });

  it("sums line items into components and a total", () => {
    const e = estimateCost(gkeStack(), priceBook(), TODAY);
    const sum = e.items.reduce((n, i) => n + i.monthly.ceiling, 0);
    expect(e.total.ceiling).toBeCloseTo(sum, 1);
    expect(e.components.map((c) => c.component).sort()).toEqual(["cluster:GkeCluster c", "processor:ProcessorService video-processor"]);
  });
});

describe("estimateCost: what it cannot price", () => {
  it("lists an unknown resource type as not priced, never as zero", () => {
    const e = estimateCost([...gkeStack(), rec("gcp:sql/databaseInstance:DatabaseInstance", "db", { tier: "db-custom-2-8192" })], priceBook(), TODAY);
    expect(e.notPriced).toEqual([expect.objectContaining({ resource: "db", type: "gcp:sql/databaseInstance:DatabaseInstance" })]);
  });

  it("refuses a machine type the book has no price for, naming it and the pool", () => {
    expect(() => estimateCost(gkeStack({ machineType: "n9-imaginary-4" }), priceBook(), TODAY)).toThrow(
      /no price for machine type n9-imaginary-4 in gcp us-west1 \(c-spot nodeConfig.machineType\)/,
    );
  });

  it("bills an EKS control plane past standard support at the extended rate", () => {
    const eks = [rec("pulumi:providers:aws", "aws", { region: "eu-west-1" }, null), rec("aws:eks/cluster:Cluster", "eks", { version: "1.33" })];
    const e = estimateCost(eks, priceBook(), TODAY);
    expect(item(e, /EKS control plane/).unitHourly).toBe(0.6);
    expect(e.warnings[0]).toMatch(/left standard support on 2026-07-29/);
    const before = estimateCost(eks, priceBook(), { today: new Date("2026-07-01T00:00:00Z") });
    expect(item(before, /EKS control plane/).unitHourly).toBe(0.1);
    const explicit = [eks[0], rec("aws:eks/cluster:Cluster", "eks", { version: "1.33", upgradePolicy: { supportType: "EXTENDED" } })];
    expect(item(estimateCost(explicit, priceBook(), TODAY), /EKS control plane/).unitHourly).toBe(0.6);
  });

  it("bills a cluster that opted out of extended support at the standard rate, warning that EKS upgrades it", () => {
    const eks = [rec("pulumi:providers:aws", "aws", { region: "eu-west-1" }, null), rec("aws:eks/cluster:Cluster", "eks", { version: "1.33", upgradePolicy: { supportType: "STANDARD" } })];
    const e = estimateCost(eks, priceBook(), TODAY);
    expect(item(e, /EKS control plane/).unitHourly).toBe(0.1);
    expect(e.warnings).toEqual([expect.stringMatching(/1\.33 left standard support on 2026-07-29: with supportType STANDARD, EKS upgrades the control plane/)]);
  });

  it("bills the program's own EKS version at the standard rate on the day it was chosen, and the old 1.33 at the extended one", () => {
    const at = (version: string) => [rec("pulumi:providers:aws", "aws", { region: "eu-west-1" }, null), rec("aws:eks/cluster:Cluster", "eks", { version })];
    expect(item(estimateCost(at(KUBERNETES_VERSION), priceBook(), TODAY), /EKS control plane/).unitHourly).toBe(0.1);
    expect(item(estimateCost(at("1.33"), priceBook(), TODAY), /EKS control plane/).unitHourly).toBe(0.6);
  });
});

describe("the price book", () => {
  it("is valid and every entry says where and when its figure was taken", () => {
    const b = priceBook();
    expect(b.data.machines.length).toBeGreaterThan(5);
    expect(b.ageDays(new Date("2026-12-02T00:00:00Z"))).toBeGreaterThanOrEqual(0);
  });

  it("names the entry whose source or date is missing", () => {
    const broken = structuredClone(bookData) as any;
    delete broken.machines[2].source;
    broken.disks[0].takenOn = "last spring";
    expect(() => parsePriceBook(broken)).toThrow(PriceBookError);
    expect(() => parsePriceBook(broken)).toThrow(/machines\[2\]\.source \(gcp us-west1 n2-standard-4\): .*\n.*disks\[0\]\.takenOn \(gcp us-west1 pd-standard\): expected a date/);
  });

  it("refuses a book in another currency", () => {
    expect(() => parsePriceBook({ ...bookData, currency: "EUR" })).toThrow(/currency: the price book is priced in USD/);
  });
});

describe("estimateCost: volumes", () => {
  it("prices a CloudNativePG cluster's data and WAL volumes per instance on its StorageClass's disk type", () => {
    const e = estimateCost(
      [
        ...gkeStack(),
        rec("kubernetes:storage.k8s.io/v1:StorageClass", "ssd", { metadata: { name: "jobs-db-ssd" }, parameters: { type: "pd-ssd" } }),
        rec("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db", { spec: { instances: 3, storage: { size: "50Gi", storageClass: "jobs-db-ssd" }, walStorage: { size: "10Gi" } } }),
      ],
      priceBook(),
      TODAY,
    );
    // 3 × (50 + 10) GiB of pd-ssd at $0.17 per GB-month.
    expect(item(e, /PostgreSQL volumes/).monthly.ceiling).toBeCloseTo(3 * 60 * 0.17, 6);
  });
});
