import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { migrationJobName } from "../components/processor/migration";
import { stackConfig } from "./config/test-support";
import { originHostOf } from "./edge";
import { weightsByOrigin } from "./failover.shared";
import { runPlan } from "./plan/run";
import { planStack } from "./plan/wholeStack";

type Plan = Awaited<ReturnType<typeof planStack>>;
let dr: Plan;
let promoted: Awaited<ReturnType<typeof runPlan>>;

/** The dr stack file with `failover.phase` set, as `npm run plan -- --config` would read it. */
function drWithPhase(phase: number): string {
  const doc = parse(readFileSync(join(__dirname, "..", "Pulumi.dr.yaml"), "utf8"));
  doc.config["pitchey-containers:failover"] = { phase };
  const file = join(mkdtempSync(join(tmpdir(), "dr-phase-")), "Pulumi.dr.yaml");
  writeFileSync(file, stringify(doc));
  return file;
}

beforeAll(async () => {
  dr = await planStack("dr");
  promoted = await runPlan("dr", drWithPhase(100));
}, 240_000);

const cr = (resources: Plan["resources"], kind: string) => resources.map((r) => r.props as any).filter((p) => p.kind === kind);

describe("the jobs database in the dr stack", () => {
  it("is a replica of prod's database, fed from prod's WAL archive, archiving to its own folder", () => {
    const [cluster] = cr(dr.resources, "Cluster");
    expect(cluster.spec.replica).toEqual({ enabled: true, source: "primary-archive" });
    const stores = Object.fromEntries(cr(dr.resources, "ObjectStore").map((o) => [o.metadata.name, o.spec.configuration.destinationPath]));
    // prod's bucket (from Pulumi.prod.yaml, through the StackReference) and dr's own.
    expect(stores).toEqual({ "jobs-db-primary-archive": "s3://pitchey-backups/cnpg/", "jobs-db-archive": "s3://pitchey-backups-dr/cnpg/" });
    expect(cluster.spec.externalClusters[0].plugin.parameters.serverName).toBe("jobs-db-production");
    expect(cluster.spec.plugins[0].parameters.serverName).toBe("jobs-db-dr");
    const ref = dr.ofType("pulumi:pulumi:StackReference");
    expect((ref[0].props as any).name).toBe("pitchey/pitchey-containers/prod");
  });

  it("is promoted at failover phase 100, where the standby holds production's floors and takes all traffic", () => {
    const [cluster] = cr(promoted.resources, "Cluster");
    expect(cluster.spec.replica.enabled).toBe(false);
    expect(promoted.outputs.failover).toEqual({ phase: 100, poolWeights: { primary: 0, standby: 1 }, promoteStandbyDatabase: true, floorFraction: 1 });
    // …and the load balancer in the same plan sends all of it to dr's origin.
    expect(weightsByOrigin(promoted.resources)).toEqual({ [originHostOf(stackConfig("prod"))]: 0, [originHostOf(stackConfig("dr"))]: 1 });
    const floors = Object.fromEntries(cr(promoted.resources, "ScaledObject").map((o) => [o.metadata.name, o.spec.minReplicaCount]));
    expect(floors).toEqual({ "video-processor": 2, "document-processor": 3, "ai-inference": 1, "media-transcoder": 2, "code-executor": 5 });
  });

  it("records backup runs only where the database takes writes: not on the warm replica, once promoted", () => {
    const cronJob = (resources: typeof dr.resources, name: string) =>
      resources.find((r) => r.type === "kubernetes:batch/v1:CronJob" && (r.props as any).metadata.name === name)!.props as any;
    const recordRuns = (resources: typeof dr.resources) =>
      cronJob(resources, "db-backup").spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === "BACKUP_RECORD_RUNS").value;
    // The replica still takes its dumps; it has no row to write them to, like the suspended restore verification.
    expect(recordRuns(dr.resources)).toBe("false");
    expect(cronJob(dr.resources, "restore-verification").spec.suspend).toBe(true);
    expect(recordRuns(promoted.resources)).toBe("true");
    expect(cronJob(promoted.resources, "restore-verification").spec.suspend).toBe(false);
  });

  it("stays a warm replica at phase 0: all traffic on the primary, warm floors", () => {
    expect(dr.outputs.failover).toMatchObject({ phase: 0, poolWeights: { primary: 1, standby: 0 }, promoteStandbyDatabase: false });
    const floors = Object.fromEntries(cr(dr.resources, "ScaledObject").map((o) => [o.metadata.name, o.spec.minReplicaCount]));
    expect(floors["code-executor"]).toBe(2);
  });

  it("produces the connection Secrets: the owner's for processors and jobs, a SELECT-only one for KEDA", () => {
    const secrets = dr.k8s("Secret").filter((s) => s.metadata.namespace === "processors");
    expect(secrets.find((s) => s.metadata.name === "jobs-database").stringData).toEqual({ DATABASE_URL: "[secret]" });
    expect(secrets.find((s) => s.metadata.name === "jobs-database-reader").stringData).toEqual({ connection: "[secret]" });
    const auth = dr.k8s("TriggerAuthentication")[0];
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: "connection", name: "jobs-database-reader", key: "connection" }]);
    const roles = cr(dr.resources, "Cluster")[0].spec.managed.roles;
    expect(roles.find((r: any) => r.name === "keda_reader").inRoles).toEqual(["pg_read_all_data"]);
  });

  it("lets the processors reach the pooler, and nothing but the database's own pods reach PostgreSQL", () => {
    const egress = dr.k8s("NetworkPolicy").find((p) => p.metadata.namespace === "processors" && p.metadata.name === "allow-database-egress");
    expect(egress.spec.egress[0].to).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "jobs-db" } }, podSelector: { matchLabels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } } },
    ]);
    const pooler = cr(dr.resources, "Pooler")[0];
    expect(pooler.metadata.name).toBe("jobs-db-pooler-rw");
    expect(pooler.spec.pgbouncer.poolMode).toBe("session");
  });

  it("lets KEDA's operator query the pooler and the CloudNativePG operator reach the instances, and the database admits both", () => {
    const np = (namespace: string, name: string) => dr.k8s("NetworkPolicy").find((p) => p.metadata.namespace === namespace && p.metadata.name === name).spec;
    const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
    expect(np("keda", "operator").egress).toEqual([
      { to: [{ ...ns("jobs-db"), podSelector: { matchLabels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } } }], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    expect(np("jobs-db", "allow-pooler-clients").ingress[0]).toMatchObject({ from: expect.arrayContaining([ns("keda")]), ports: [{ protocol: "TCP", port: 5432 }] });
    expect(np("cnpg-system", "operator").egress[0]).toEqual({
      to: [{ ...ns("jobs-db"), podSelector: { matchLabels: { "cnpg.io/cluster": "jobs-db" } } }],
      ports: [
        { protocol: "TCP", port: 8000 },
        { protocol: "TCP", port: 5432 },
      ],
    });
    expect(np("jobs-db", "allow-postgres").ingress).toContainEqual({
      from: [{ ...ns("cnpg-system"), podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cnpg" } } }],
      ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 8000 }],
    });
  });

  it("names the migration Job after the migrations' content", () => {
    const job = dr.resources.find((r) => r.type === "kubernetes:batch/v1:Job")!.props as any;
    expect(job.metadata.name).toBe(migrationJobName(join(__dirname, "..", "images")));
    expect(job.metadata.name).toMatch(/^jobs-migrate-[0-9a-f]{10}$/);
  });

  it("keeps the data through stack operations: volumes retained on delete", () => {
    const sc = dr.k8s("StorageClass").find((s) => s.metadata.name === "jobs-db-ssd");
    expect(sc).toMatchObject({ reclaimPolicy: "Retain", provisioner: "ebs.csi.aws.com", parameters: { encrypted: "true" } });
  });
});
