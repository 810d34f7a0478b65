import { describe, expect, it } from "vitest";
import { alertRunbook, backupRestoreVerified, databaseBackups } from "../completeness/stack";
import { helmNamespaceDefaultDeny } from "../network/kubernetes";
import { workloadToleratesPool } from "../clusters/pools";
import { compliantStack, find, labels, pod, remove, res, run } from "./util";

function externalDbStack() {
    const s = compliantStack();
    remove(s, "jobs-db");
    s.push(res("kubernetes:core/v1:Secret", "jobs-database", { metadata: { name: "jobs-database", namespace: "processors", labels: labels("jobs-database") }, stringData: { DATABASE_URL: "postgres://app:pw@10.40.0.5:5432/jobs" } }));
    return s;
}

describe("database-has-backups for a database the stack does not declare", () => {
    it("recognises the database Secret by its key when the plan redacts the value", () => {
        const s = externalDbStack();
        find(s, "jobs-database").props.stringData = { DATABASE_URL: "[secret]" };
        expect(run(databaseBackups, s).map((v) => v.urn)).toEqual([find(s, "jobs-database").urn]);
    });

    it("accepts a pg_basebackup CronJob writing to the backup bucket", () => {
        const s = externalDbStack();
        s.push(res("kubernetes:batch/v1:CronJob", "jobs-db-backup", {
            metadata: { name: "jobs-db-backup", namespace: "processors", labels: labels("jobs-db-backup") },
            spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "backup", command: ["sh", "-c", "pg_basebackup -D - -Ft | aws s3 cp - s3://pitchey-prod-backups/postgres/hourly/"] }] } } } } },
        }));
        expect(run(databaseBackups, s)).toEqual([]);
    });

    it("accepts a backup CronJob of the platform's own image that reads the database Secret", () => {
        const s = externalDbStack();
        s.push(res("kubernetes:batch/v1:CronJob", "db-backup", {
            metadata: { name: "jobs-db-snapshot", namespace: "processors", labels: { ...labels("jobs-db-snapshot"), "app.kubernetes.io/component": "backup" } },
            spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "snapshot", command: ["node", "dist/cli/snapshot.js"], env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "jobs-database", key: "DATABASE_URL" } } }] }] } } } } },
        }));
        expect(run(databaseBackups, s)).toEqual([]);
    });

    it("counts an R2 bucket as the backup store", () => {
        const s = externalDbStack();
        for (const name of ["backups", "gcs-backups", "backup-copy", "gcs-backup-copy"]) remove(s, name);
        s.push(res("kubernetes:batch/v1:CronJob", "db-backup", {
            metadata: { name: "db-backup", namespace: "processors" },
            spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "dump", command: ["pg_dump"] }] } } } } },
        }));
        expect(run(databaseBackups, s)).toEqual([]);
        remove(s, "r2-backups");
        expect(run(databaseBackups, s)[0].message).toMatch(/no backup bucket/);
    });

    it("does not count a backup job of some other database", () => {
        const s = externalDbStack();
        s.push(res("kubernetes:batch/v1:CronJob", "cache-backup", {
            metadata: { name: "cache-backup", namespace: "processors" },
            spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "dump", command: ["redis-cli", "--rdb", "/tmp/dump.rdb"] }] } } } } },
        }));
        expect(run(databaseBackups, s)).toHaveLength(1);
    });

    it("accepts a database recorded as backed up by another stack", () => {
        expect(run(databaseBackups, externalDbStack(), { "database-has-backups": { databasesBackedUpElsewhere: ["jobs-database"] } })).toEqual([]);
    });

    it("names what is missing", () => {
        const [v] = run(databaseBackups, externalDbStack());
        expect(v.message).toMatch(/no backup CronJob/);
        expect(v.message).not.toMatch(/no backup bucket/);
    });
});

describe("k8s-helm-namespace-default-deny", () => {
    it("does not ask again for namespaces the workload policy already covers", () => {
        const s = compliantStack();
        s.push(res("kubernetes:helm.sh/v3:Release", "extra", { chart: "redis", version: "20.1.0", namespace: "processors" }));
        expect(run(helmNamespaceDefaultDeny, s)).toEqual([]);
    });
});

describe("workload-tolerates-exactly-its-pool-taints with a RuntimeClass", () => {
    it("counts the tolerations and node selector the RuntimeClass's scheduling adds at admission", () => {
        const s = compliantStack();
        const ce = pod(find(s, "code-executor"));
        ce.tolerations = [];
        expect(run(workloadToleratesPool, s).length).toBeGreaterThan(0);
        find(s, "gvisor").props.scheduling = { nodeSelector: { "pitchey.io/pool": "sandbox" }, tolerations: [
            { key: "pitchey.io/pool", operator: "Equal", value: "sandbox", effect: "NoSchedule" },
            { key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" },
        ] };
        expect(run(workloadToleratesPool, s)).toEqual([]);
    });
});

describe("alert-has-runbook", () => {
    it("accepts templated runbook links and repository paths", () => {
        const s = compliantStack();
        const rules = find(s, "processor-alerts").props.spec.groups[0].rules;
        rules.push({ alert: "ContainerDown", expr: "up == 0", annotations: { runbook_url: "https://github.com/pitchey/pitchey-containers/blob/main/docs/runbooks/{{ $labels.job }}.md" } });
        rules.push({ alert: "StorageFull", expr: "1", annotations: { runbook_url: "docs/runbooks/storage-full.md#mitigation" } });
        expect(run(alertRunbook, s)).toEqual([]);
    });
});

function cnpgStack(opts: { plugin?: boolean; store?: boolean; scheduled?: boolean } = {}) {
    const s = compliantStack();
    remove(s, "jobs-db");
    s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: "jobs-db", namespace: "jobs-db" },
        spec: {
            instances: 3,
            plugins: opts.plugin === false ? [] : [{ name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: "jobs-db-archive" } }],
        },
    }));
    if (opts.store !== false) {
        s.push(res("kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "jobs-db-archive", { metadata: { name: "jobs-db-archive", namespace: "jobs-db" }, spec: { configuration: { destinationPath: "s3://b/cnpg/" } } }));
    }
    if (opts.scheduled !== false) {
        s.push(res("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "jobs-db-base-backup", { metadata: { name: "jobs-db-base-backup", namespace: "jobs-db" }, spec: { cluster: { name: "jobs-db" }, method: "plugin", schedule: "0 0 1 * * *" } }));
    }
    return s;
}

describe("database-has-backups for a CloudNativePG cluster with the Barman Cloud plugin", () => {
    it("accepts WAL archiving through the plugin to a declared ObjectStore plus scheduled base backups", () => {
        expect(run(databaseBackups, cnpgStack())).toEqual([]);
    });

    it("fires without a WAL archiver, naming what is missing", () => {
        const v = run(databaseBackups, cnpgStack({ plugin: false }));
        expect(v).toHaveLength(1);
        expect(v[0].message).toMatch(/archives WAL nowhere/);
    });

    it("fires when the plugin points at an ObjectStore the stack does not declare", () => {
        expect(run(databaseBackups, cnpgStack({ store: false }))[0].message).toMatch(/archives WAL nowhere/);
    });

    it("fires without a ScheduledBackup", () => {
        expect(run(databaseBackups, cnpgStack({ scheduled: false }))[0].message).toMatch(/no ScheduledBackup/);
    });
});

describe("database-storage-protected", () => {
    it("accepts a cluster whose data and WAL volumes use a declared, retained, encrypted StorageClass", async () => {
        const { databaseStorageProtected } = await import("../completeness/stack");
        const s = compliantStack();
        s.push(res("kubernetes:storage.k8s.io/v1:StorageClass", "jobs-db-storage", { metadata: { name: "jobs-db-ssd" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" }, reclaimPolicy: "Retain" }));
        s.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { storage: { storageClass: "jobs-db-ssd" }, walStorage: { storageClass: "jobs-db-ssd" } } }));
        expect(run(databaseStorageProtected, s)).toEqual([]);
        find(s, "jobs-db-cluster").props.spec.walStorage.storageClass = "standard";
        expect(run(databaseStorageProtected, s)[0].message).toMatch(/walStorage uses StorageClass standard, which the stack does not declare/);
    });
});

describe("backup-restore-verified", () => {
    it("accepts the compliant stack: its backup job has a restore-verification CronJob and an alert on the outcome", () => {
        expect(run(backupRestoreVerified, compliantStack())).toEqual([]);
    });

    it("names what is missing, both at once, against the database", () => {
        const s = compliantStack();
        remove(s, "restore-verification");
        find(s, "processor-alerts").props.spec.groups[0].rules = [];
        const v = run(backupRestoreVerified, s);
        expect(v.map((x) => x.urn)).toEqual([find(s, "jobs-db").urn]);
        expect(v[0]!.message).toBe("Cloud SQL pitchey-jobs is backed up by db-backup, but no CronJob restores its backups to verify them and no alerting rule watches a restore_verification metric.");
    });

    it("accepts the alert in the monitoring chart's values, and asks nothing of a stack that runs no backup job", () => {
        const s = compliantStack();
        const rule = find(s, "processor-alerts").props.spec.groups[0].rules.find((r: { alert?: string }) => r.alert === "RestoreVerificationFailed");
        find(s, "processor-alerts").props.spec.groups[0].rules = [];
        s.push(res("kubernetes:helm.sh/v3:Release", "kps", { name: "kps", chart: "kube-prometheus-stack", version: "88.5.3", namespace: "monitoring", values: { additionalPrometheusRulesMap: { restore: { groups: [{ name: "restore", rules: [rule] }] } } } }));
        expect(run(backupRestoreVerified, s)).toEqual([]);
        const none = compliantStack();
        remove(none, "db-backup");
        remove(none, "restore-verification");
        expect(run(backupRestoreVerified, none)).toEqual([]);
    });
});
