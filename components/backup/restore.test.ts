import { spawn } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { migrate } from "../../images/src/db/migrate";
import { recordVerification, type VerificationOutcome } from "../../images/src/backup/verify";
import { type EmbeddedDatabase, freePort, serverTool, startEmbeddedPostgres } from "../../images/src/dev/embedded-db";
import type { PoolScheduling } from "../cluster/types";
import { IMAGES } from "../versions";
import {
  customQueryMetricNames,
  postgresMajorOf,
  RESTORE_COMMAND,
  RESTORE_METRICS,
  RESTORE_QUERY,
  restoreCronJobSpec,
  restoreNetworkPolicy,
  restoreVerificationQueries,
  SCRATCH_URL,
} from "./restore-builders";
import { restoreAlertRules } from "./restore-rules";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const settings = { schedule: "30 4 * * *", maxVerifiedBackupAgeHours: 26, deadlineMinutes: 60, scratchStorage: "20Gi" };
const spec = restoreCronJobSpec({
  image: `registry.example/db-backup@sha256:${"b".repeat(64)}`,
  postgresMajor: postgresMajorOf(IMAGES.postgresql),
  settings,
  storeUrl: "s3://pitchey-backups",
  s3Endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
  credentialsSecretName: "backup-reader",
  databaseSecretName: "jobs-database",
  serviceAccountName: "restore-verification",
  pool,
  labels: { "app.kubernetes.io/name": "restore-verification" },
  httpsEgressLabel: "pitchey.io/egress-https",
}) as any;
const pod = spec.jobTemplate.spec.template.spec;
const [verify] = pod.containers;
const [scratch] = pod.initContainers;
const env = Object.fromEntries(verify.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("restore verification CronJob", () => {
  it("runs the worker image's verify command daily from config, one at a time, never retried within a tick", () => {
    expect(spec).toMatchObject({ schedule: "30 4 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid", suspend: false });
    expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 3600 });
    expect(verify.command).toEqual(RESTORE_COMMAND);
    expect(verify.command).toEqual(["node", "dist/cli/verify-restore.js"]);
  });

  it("reads the bucket with the credentials Secret it is given and records through the jobs database's, as files", () => {
    expect(env).toMatchObject({
      BACKUP_STORE_URL: "s3://pitchey-backups",
      BACKUP_S3_ENDPOINT: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
      SCRATCH_SERVER_URL: SCRATCH_URL,
      DATABASE_URL_FILE: "/var/run/secrets/pitchey/jobs-database/DATABASE_URL",
      AWS_ACCESS_KEY_ID_FILE: "/var/run/secrets/pitchey/backup-reader/AWS_ACCESS_KEY_ID",
      AWS_SECRET_ACCESS_KEY_FILE: "/var/run/secrets/pitchey/backup-reader/AWS_SECRET_ACCESS_KEY",
    });
    expect(JSON.stringify(pod)).not.toContain("secretKeyRef");
    expect(pod.volumes.filter((v: any) => v.secret).map((v: any) => v.secret.secretName).sort()).toEqual(["backup-reader", "jobs-database"]);
  });

  it("starts a scratch PostgreSQL of the database's major from the same image as a native sidecar, on loopback, with its data on an emptyDir", () => {
    expect(scratch).toMatchObject({ name: "scratch-db", image: verify.image, restartPolicy: "Always" });
    // The jobs database runs 15, as Debian bookworm's server and client tools in the db-backup image are.
    expect(postgresMajorOf(IMAGES.postgresql)).toBe(15);
    expect(scratch.command[2]).toMatch(/^\/usr\/lib\/postgresql\/15\/bin\/initdb .* && exec \/usr\/lib\/postgresql\/15\/bin\/postgres /);
    expect(scratch.command.join(" ")).toContain("listen_addresses=127.0.0.1");
    expect(scratch.startupProbe.exec.command[0]).toBe("pg_isready");
    expect(SCRATCH_URL).toBe("postgresql://postgres@127.0.0.1:5432/postgres");
    const mount = scratch.volumeMounts.find((m: any) => m.name === "scratch-db");
    expect(pod.volumes.find((v: any) => v.name === "scratch-db")).toEqual({ name: "scratch-db", emptyDir: { sizeLimit: "20Gi" } });
    expect(scratch.command.join(" ")).toContain(`--pgdata=${mount.mountPath}/data`);
  });

  it("the sidecar's own command starts a server the verifier's URL reaches (Debian's PostgreSQL, as the image has it)", async () => {
    const initdb = serverTool("initdb");
    const dir = mkdtempSync(join(tmpdir(), "scratch-sidecar-"));
    if (initdb.runAs) chownSync(dir, initdb.runAs.uid, initdb.runAs.gid);
    const port = await freePort();
    const script = (scratch.command[2] as string)
      .replaceAll("/usr/lib/postgresql/15/bin", dirname(initdb.path))
      .replaceAll("/var/lib/scratch", dir)
      .replace("port=5432", `port=${port}`);
    const child = spawn("sh", ["-c", script], { env: initdb.env, ...(initdb.runAs ?? {}), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c));
    try {
      const url = SCRATCH_URL.replace(":5432/", `:${port}/`);
      let version: string | undefined;
      for (let i = 0; i < 120 && !version; i++) {
        const c = new Client({ connectionString: url });
        try {
          await c.connect();
          version = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
        } catch (err) {
          stderr += `\n${(err as Error).message}`;
          await new Promise((r) => setTimeout(r, 500));
        } finally {
          await c.end().catch(() => undefined);
        }
      }
      expect(String(version), stderr).toMatch(/^\d+/);
    } finally {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("keeps every container within the restricted Pod Security Standard", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of [verify, scratch]) {
      expect(c.securityContext, c.name).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      expect(c.securityContext.runAsUser, c.name).toBe(10001);
    }
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("is suspended where it cannot record (a replica database)", () => {
    const suspended = restoreCronJobSpec({ image: "x", postgresMajor: 15, settings, storeUrl: "s3://b", credentialsSecretName: "c", databaseSecretName: "d", serviceAccountName: "s", pool, labels: {}, httpsEgressLabel: "l", suspend: true });
    expect(suspended.suspend).toBe(true);
  });

  it("allows no ingress and egress only to DNS, the database's poolers and HTTPS", () => {
    const np = restoreNetworkPolicy({
      podLabels: { "app.kubernetes.io/name": "restore-verification" },
      databasePods: { namespace: "jobs-db", labels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } },
      databasePort: 5432,
    }) as any;
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.ingress).toEqual([]);
    expect(np.egress.flatMap((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`))).toEqual(["UDP/53", "TCP/53", "TCP/5432", "TCP/443"]);
    expect(np.egress[1].to[0].podSelector.matchLabels).toEqual({ "cnpg.io/poolerName": "jobs-db-pooler-rw" });
    expect(np.egress[2].to[0].ipBlock.except).toContain("10.0.0.0/8");
  });
});

describe("restore verification metrics", () => {
  let db: EmbeddedDatabase;
  beforeAll(async () => {
    db = await startEmbeddedPostgres({ fast: true });
    await migrate(db.url);
  }, 120_000);
  afterAll(() => db?.stop());

  /** The exporter's query as CloudNativePG runs it: one row, one gauge per column. */
  async function scrape(): Promise<Record<string, number>> {
    const q = (restoreVerificationQueries("jobs")[RESTORE_QUERY] as { query: string }).query;
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query(q);
      expect(rows).toHaveLength(1);
      return Object.fromEntries(Object.entries(rows[0] as Record<string, string>).map(([k, v]) => [`cnpg_${RESTORE_QUERY}_${k}`, Number(v)]));
    } finally {
      await c.end();
    }
  }
  const at = (iso: string) => new Date(iso);
  const outcome = (o: Partial<VerificationOutcome>): VerificationOutcome => ({
    success: true,
    startedAt: at("2026-12-01T04:30:00Z"),
    finishedAt: at("2026-12-01T04:31:40Z"),
    location: "s3://pitchey-backups/postgres/",
    backup: { key: "postgres/2026-12-01T04-00-00Z.dump", takenAt: at("2026-12-01T04:00:00Z"), bytes: 1000 },
    restoredRows: 10,
    message: "ok",
    ...o,
  });

  it("names exactly the metrics the alerts and the DR drill read", () => {
    expect(customQueryMetricNames(restoreVerificationQueries("jobs")).sort()).toEqual(Object.values(RESTORE_METRICS).sort());
    const read = restoreAlertRules({ maxVerifiedBackupAgeHours: 26, runbookBaseUrl: "x/" }).rules.map((r) => r.expr).join("\n");
    for (const m of [RESTORE_METRICS.lastRun, RESTORE_METRICS.lastRunSuccess, RESTORE_METRICS.verifiedBackup]) expect(read).toContain(m);
  });

  it("reports none-yet figures on an empty table, then follows the rows the verifier records", async () => {
    expect(await scrape()).toMatchObject({
      [RESTORE_METRICS.lastRun]: 0,
      [RESTORE_METRICS.lastRunSuccess]: 0,
      [RESTORE_METRICS.lastSuccess]: 0,
      [RESTORE_METRICS.verifiedBackup]: 0,
      [RESTORE_METRICS.newestBackupAge]: 1e9,
    });
    await recordVerification(db.url, outcome({}));
    const ok = Date.parse("2026-12-01T04:31:40Z") / 1000;
    expect(await scrape()).toEqual({
      [RESTORE_METRICS.lastRun]: ok,
      [RESTORE_METRICS.lastRunSuccess]: 1,
      [RESTORE_METRICS.lastRunDuration]: 100,
      [RESTORE_METRICS.lastSuccess]: ok,
      [RESTORE_METRICS.verifiedBackup]: Date.parse("2026-12-01T04:00:00Z") / 1000,
      [RESTORE_METRICS.newestBackupAge]: 1900,
    });
    // The next day's run fails on a backup taken three hours before it: the success figures stay yesterday's.
    await recordVerification(
      db.url,
      outcome({
        success: false,
        startedAt: at("2026-12-02T04:30:00Z"),
        finishedAt: at("2026-12-02T04:30:20Z"),
        backup: { key: "postgres/2026-12-02T01-30-00Z.dump", takenAt: at("2026-12-02T01:30:00Z"), bytes: 5 },
        message: "unreadable",
      }),
    );
    expect(await scrape()).toMatchObject({
      [RESTORE_METRICS.lastRun]: Date.parse("2026-12-02T04:30:20Z") / 1000,
      [RESTORE_METRICS.lastRunSuccess]: 0,
      [RESTORE_METRICS.lastRunDuration]: 20,
      [RESTORE_METRICS.lastSuccess]: ok,
      [RESTORE_METRICS.newestBackupAge]: 3 * 3600 + 20,
    });
    // An empty bucket: no backup at all.
    await recordVerification(db.url, outcome({ success: false, startedAt: at("2026-12-03T04:30:00Z"), finishedAt: at("2026-12-03T04:30:01Z"), backup: undefined, message: "no backup" }));
    expect((await scrape())[RESTORE_METRICS.newestBackupAge]).toBe(1e9);
  });
});
