import type { PolicyResource } from "@pulumi/policy";
import { arr, containersOf, isWorkload as isWorkloadType, namespaceOf, objectName, podSpec, podTemplate, selects, serviceName, T, type Obj } from "../core/k8s";
import { configOf, resourcePolicy, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { scaledObjectFor } from "../kubernetes/reliability";
import { isBackupBucket, S3, GCS_BUCKET, R2_BUCKET } from "../storage/s3";

/** Triggers that do not measure work waiting; any other KEDA scaler (postgresql, prometheus, sqs, …) does. */
const NON_QUEUE_TRIGGERS = ["cpu", "memory", "cron"];

export const processorScaledObject = stackPolicy({
    name: "processor-has-scaledobject",
    summary: "Every processor Deployment must be targeted by a KEDA ScaledObject that scales on CPU, memory and queue depth, with maxReplicaCount above its minimum.",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "KEDA ScaledObject spec; operations playbook Scaling Strategies (CPU, memory and queue-depth targets per processor)",
        why: "A processor without a ScaledObject stays at its initial replicas while the queue grows past the QueueBacklog threshold.",
    },
    fix: "Create a ScaledObject in the processor's namespace with scaleTargetRef.name set to the Deployment and cpu, memory and queue-depth (e.g. postgresql) triggers.",
    configSchema: schemaFor(["processors", "processorNamespace"]),
    validate: (args, report) => {
        const cfg = configOf(args, { processors: DEFAULTS.processors as readonly string[], processorNamespace: DEFAULTS.processorNamespace as string });
        const deployments = args.resources.filter((r) => r.type === T.Deployment && (namespaceOf(r.props) === cfg.processorNamespace || cfg.processors.includes(serviceName(r.props, r.name))));
        for (const d of deployments) {
            const name = objectName(d.props, d.name);
            const so = scaledObjectFor(d, args.resources);
            if (!so) {
                report(`Processor ${namespaceOf(d.props)}/${name} has no ScaledObject.`, d.urn);
                continue;
            }
            const spec = so.props.spec ?? {};
            const types = arr<Obj>(spec.triggers).map((t) => String(t.type));
            const missing = [
                !types.includes("cpu") && "cpu",
                !types.includes("memory") && "memory",
                !types.some((t) => !NON_QUEUE_TRIGGERS.includes(t)) && "queue depth",
            ].filter(Boolean);
            if (missing.length > 0) report(`ScaledObject for ${name} does not scale on ${missing.join(", ")}.`, so.urn);
            const min = typeof spec.minReplicaCount === "number" ? spec.minReplicaCount : 0;
            const max = typeof spec.maxReplicaCount === "number" ? spec.maxReplicaCount : 100;
            if (max <= min) report(`ScaledObject for ${name} cannot scale: maxReplicaCount ${max} ≤ minReplicaCount ${min}.`, so.urn);
        }
    },
});

/** A link: an http(s) URL (templated parts such as {{ $labels.job }} allowed) or a path to a Markdown runbook. */
const RUNBOOK = /^(https?:\/\/\S.*|[^\s]+\.md(#\S*)?)$/;

/** Rule groups anywhere in a value tree: PrometheusRule specs and chart values such as additionalPrometheusRulesMap. */
function ruleGroups(v: unknown, out: Obj[] = [], depth = 0): Obj[] {
    if (depth > 12 || v === null || typeof v !== "object") return out;
    if (Array.isArray(v)) {
        for (const x of v) ruleGroups(x, out, depth + 1);
        return out;
    }
    const o = v as Obj;
    if (Array.isArray(o.groups) && o.groups.some((g: Obj) => Array.isArray(g?.rules))) out.push(...o.groups);
    else for (const x of Object.values(o)) ruleGroups(x, out, depth + 1);
    return out;
}

export const alertRunbook = resourcePolicy({
    name: "alert-has-runbook",
    summary: "Every Prometheus alerting rule must carry a runbook_url annotation.",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Prometheus alerting best practices; kube-prometheus / Prometheus Operator runbook_url convention; Google SRE book (actionable alerts)",
        why: "Whoever is paged at 3 a.m. needs the investigation steps; an alert without a runbook turns into guesswork and longer outages.",
    },
    fix: "Add annotations.runbook_url pointing at the alert's runbook in docs/runbooks.",
    types: [T.PrometheusRule, T.HelmRelease],
    validate: (args, report) => {
        const groups = args.type === T.PrometheusRule ? arr<Obj>(args.props.spec?.groups) : ruleGroups(args.props.values);
        if (groups.length === 0) args.notApplicable("no alerting rules");
        for (const g of groups) {
            for (const r of arr<Obj>(g.rules)) {
                if (typeof r.alert !== "string") continue;
                const url = r.annotations?.runbook_url;
                if (typeof url !== "string" || !RUNBOOK.test(url)) report(`Alert ${r.alert} in group ${g.name} has no runbook_url.`);
            }
        }
    },
});

const DB_IMAGE = /(^|\/)(postgres|postgresql|mysql|mariadb|timescaledb|postgis)[:@]/i;
const DB_CHART = /postgres|mysql|mariadb/i;

interface Database {
    readonly r: PolicyResource;
    readonly label: string;
    readonly backedUp: boolean;
    readonly why: string;
}

const PG_URL = /^postgres(ql)?:\/\//i;
const BACKUP_TOOL = /pg_dump|pg_basebackup|pgbackrest|wal-g|barman/i;
const MANAGED_DB = ["aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "gcp:sql/databaseInstance:DatabaseInstance", "kubernetes:postgresql.cnpg.io/v1:Cluster"];

const DB_KEY = /^(DATABASE_URL|[A-Z0-9_]+_DATABASE_URL|PG(HOST|URI|PASSWORD|DATABASE)|POSTGRES(QL)?_[A-Z_]+)$/;

/**
 * Secrets holding PostgreSQL connection settings: the stack uses a database it does not declare. Recognised by the
 * value (a postgres:// URL) or, since plans redact secret values, by the conventional key names.
 */
function externalDatabaseSecrets(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => {
        if (r.type !== "kubernetes:core/v1:Secret") return false;
        const entries = Object.entries({ ...(r.props.data ?? {}), ...(r.props.stringData ?? {}) });
        return entries.some(([k, v]) => DB_KEY.test(k) || (typeof v === "string" && PG_URL.test(v)));
    });
}

function databases(resources: readonly PolicyResource[], backupPattern: string, backedUpElsewhere: readonly string[]): Database[] {
    const out: Database[] = [];
    const hasBackupStore = resources.some((r) => (r.type === S3.Bucket || r.type === GCS_BUCKET || r.type === R2_BUCKET) && isBackupBucket(r, backupPattern));
    const backupJobs = resources.filter((j) => j.type === T.CronJob && [objectName(j.props, j.name), ...Object.values(j.props.metadata?.labels ?? {})].some((v) => typeof v === "string" && /backup/i.test(v)));
    if (!resources.some((r) => MANAGED_DB.includes(r.type))) {
        for (const secret of externalDatabaseSecrets(resources).filter((x) => !backedUpElsewhere.includes(objectName(x.props, x.name)))) {
            const secretName = objectName(secret.props, secret.name);
            // A backup job is recognised by its tool or by reading this database's Secret.
            const backupJob = backupJobs.some((j) => {
                const spec = JSON.stringify(j.props);
                return BACKUP_TOOL.test(spec) || spec.includes(`"${secretName}"`);
            });
            out.push({
                r: secret,
                label: `the PostgreSQL database behind Secret ${namespaceOf(secret.props)}/${secretName}`,
                backedUp: backupJob && hasBackupStore,
                why: `${backupJob ? "" : "no backup CronJob (pg_dump / pg_basebackup / pgBackRest / WAL-G, or one reading this Secret) is declared"}${!backupJob && !hasBackupStore ? " and " : ""}${hasBackupStore ? "" : "no backup bucket is declared"}`,
            });
        }
    }
    for (const r of resources) {
        const p = r.props;
        if (r.type === "aws:rds/instance:Instance" || r.type === "aws:rds/cluster:Cluster") {
            const days = p.backupRetentionPeriod;
            out.push({ r, label: `RDS ${p.identifier ?? p.clusterIdentifier ?? r.name}`, backedUp: typeof days === "number" && days >= 7, why: `backupRetentionPeriod is ${days ?? "unset"} (needs ≥ 7)` });
        } else if (r.type === "gcp:sql/databaseInstance:DatabaseInstance") {
            const b = p.settings?.backupConfiguration ?? {};
            out.push({ r, label: `Cloud SQL ${p.name ?? r.name}`, backedUp: b.enabled === true && (b.pointInTimeRecoveryEnabled === true || b.binaryLogEnabled === true), why: "automated backups with point-in-time recovery are not enabled" });
        } else if (r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster") {
            const scheduled = resources.some((s) => s.type === "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup" && s.props.spec?.cluster?.name === objectName(p, r.name));
            // In-tree Barman (`backup.barmanObjectStore`) or the Barman Cloud plugin archiving to a declared ObjectStore.
            const storeNames = new Set(resources.filter((o) => o.type === "kubernetes:barmancloud.cnpg.io/v1:ObjectStore" && namespaceOf(o.props) === namespaceOf(p)).map((o) => objectName(o.props, o.name)));
            const plugin = ((p.spec?.plugins ?? []) as { name?: string; isWALArchiver?: boolean; parameters?: { barmanObjectName?: string } }[]).some(
                (x) => x.name === "barman-cloud.cloudnative-pg.io" && x.isWALArchiver === true && storeNames.has(String(x.parameters?.barmanObjectName)),
            );
            const archived = Boolean(p.spec?.backup?.barmanObjectStore) || plugin;
            out.push({
                r,
                label: `CloudNativePG cluster ${objectName(p, r.name)}`,
                backedUp: archived && scheduled,
                why: `${archived ? "" : "it archives WAL nowhere (no backup.barmanObjectStore, no barman-cloud plugin WAL archiver with a declared ObjectStore)"}${!archived && !scheduled ? " and " : ""}${scheduled ? "" : "no ScheduledBackup takes base backups of it"}`,
            });
        } else if (r.type === T.StatefulSet && containersOf(podSpec(r.type, p), false).some(({ c }) => DB_IMAGE.test(String(c.image ?? "")))) {
            const name = objectName(p, r.name);
            const ns = namespaceOf(p);
            const job = resources.some((j) => j.type === T.CronJob && namespaceOf(j.props) === ns && new RegExp(`backup`, "i").test(objectName(j.props, j.name)) && JSON.stringify(j.props).includes(name));
            out.push({ r, label: `database StatefulSet ${ns}/${name}`, backedUp: job && hasBackupStore, why: "no backup CronJob referring to it writes to a backup bucket" });
        } else if (r.type === T.HelmRelease && DB_CHART.test(String(p.chart ?? ""))) {
            const ns = String(p.namespace ?? "default");
            const job = resources.some((j) => j.type === T.CronJob && namespaceOf(j.props) === ns && /backup/i.test(objectName(j.props, j.name)));
            out.push({ r, label: `database release ${r.name}`, backedUp: job && hasBackupStore, why: "no backup CronJob in its namespace writes to a backup bucket" });
        }
    }
    return out;
}

export const databaseBackups = stackPolicy({
    name: "database-has-backups",
    summary: "Every database in the stack must have automated backups (managed backups with PITR, or a backup CronJob writing to a backup bucket).",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Operations playbook Backup Strategy (postgresql hourly, pg_basebackup to the backup bucket); AWS Well-Architected REL09; Checkov CKV_AWS_133 / CKV_GCP_14",
        why: "The jobs database is the queue: losing it loses every pending and running job.",
    },
    fix: "Enable managed backups (RDS backupRetentionPeriod ≥ 7, Cloud SQL backupConfiguration with PITR) or add the backup CronJob and bucket; a database backed up by another stack goes in databasesBackedUpElsewhere (by its Secret's name).",
    configSchema: schemaFor(["backupBucketPattern", "databasesBackedUpElsewhere"]),
    validate: (args, report) => {
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string, databasesBackedUpElsewhere: DEFAULTS.databasesBackedUpElsewhere as readonly string[] });
        for (const db of databases(args.resources, cfg.backupBucketPattern, cfg.databasesBackedUpElsewhere)) {
            if (!db.backedUp) report(`${db.label} has no backups: ${db.why}.`, db.r.urn);
        }
    },
});

/** A CronJob that restores backups to prove they restore: named for it, and running a restore tool. */
function isRestoreVerification(j: PolicyResource): boolean {
    if (j.type !== T.CronJob) return false;
    const named = [objectName(j.props, j.name), ...Object.values(j.props.metadata?.labels ?? {})].some((v) => typeof v === "string" && /restore/i.test(v));
    const commands = containersOf(podSpec(j.type, j.props), true).map(({ c }) => JSON.stringify([c.command ?? [], c.args ?? []]));
    return named && commands.some((c) => /verify-restore|pg_restore/i.test(c));
}

/** Alerting rules anywhere in the stack (PrometheusRule specs and Helm values). */
function alertingRules(resources: readonly PolicyResource[]): Obj[] {
    return resources
        .filter((r) => r.type === T.PrometheusRule || r.type === T.HelmRelease)
        .flatMap((r) => (r.type === T.PrometheusRule ? arr<Obj>(r.props.spec?.groups) : ruleGroups(r.props.values)))
        .flatMap((g) => arr<Obj>(g.rules))
        .filter((r) => typeof r.alert === "string");
}

export const backupRestoreVerified = stackPolicy({
    name: "backup-restore-verified",
    summary: "A stack whose database is backed up by a backup job must also restore those backups on a schedule (a restore-verification CronJob) and alert on the outcome (a rule over a restore_verification metric).",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Operations playbook Backup Implementation (verify-backup.sh after every backup) and monthly disaster recovery test; AWS Well-Architected REL09-BP04 (perform periodic recovery of the data to verify backup integrity)",
        why: "A backup that has never been restored is a hope, not a backup: a dump can decode yet fail to restore, or restore without its rows or constraints, and nobody learns it until the day it is needed.",
    },
    fix: "Add a CronJob that restores the newest backup into a scratch database and checks it (the platform's restore-verification component), and an alerting rule on its outcome such as RestoreVerificationFailed.",
    configSchema: schemaFor(["backupBucketPattern", "databasesBackedUpElsewhere"]),
    validate: (args, report) => {
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string, databasesBackedUpElsewhere: DEFAULTS.databasesBackedUpElsewhere as readonly string[] });
        // Backups this stack takes itself: a backup CronJob (managed snapshots are the provider's to verify).
        const backupJobs = args.resources.filter((j) => j.type === T.CronJob && !isRestoreVerification(j) && [objectName(j.props, j.name), ...Object.values(j.props.metadata?.labels ?? {})].some((v) => typeof v === "string" && /backup/i.test(v)));
        if (backupJobs.length === 0) return;
        const dbs = databases(args.resources, cfg.backupBucketPattern, cfg.databasesBackedUpElsewhere);
        if (dbs.length === 0) return;
        const verifier = args.resources.some(isRestoreVerification);
        const alert = alertingRules(args.resources).some((r) => /restore_verification/i.test(String(r.expr ?? "")));
        const missing = [!verifier && "no CronJob restores its backups to verify them", !alert && "no alerting rule watches a restore_verification metric"].filter(Boolean);
        if (missing.length === 0) return;
        for (const db of dbs) report(`${db.label} is backed up by ${objectName(backupJobs[0]!.props, backupJobs[0]!.name)}, but ${missing.join(" and ")}.`, db.r.urn);
    },
});

const CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";
const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";

export const databaseStorageProtected = stackPolicy({
    name: "database-storage-protected",
    summary: "A CloudNativePG cluster's data and WAL volumes use a StorageClass the stack declares, which keeps volumes when their claims go (reclaimPolicy Retain) and encrypts them (EBS: encrypted \"true\").",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Kubernetes PersistentVolume reclaim policy; CloudNativePG storage docs; CIS AWS 2.2.1 (EBS encryption); Checkov CKV_AWS_3",
        why: "With reclaimPolicy Delete, deleting the Cluster (or its namespace) deletes the jobs database's disks; an unencrypted EBS volume leaves job payloads readable from any snapshot.",
    },
    fix: "Declare a StorageClass with reclaimPolicy Retain (and parameters.encrypted \"true\" on ebs.csi.aws.com) and name it in spec.storage.storageClass and spec.walStorage.storageClass.",
    validate: (args, report) => {
        const classes = new Map(args.resources.filter((r) => r.type === STORAGE_CLASS).map((r) => [objectName(r.props, r.name), r.props]));
        for (const r of args.resources.filter((x) => x.type === CNPG_CLUSTER)) {
            const name = objectName(r.props, r.name);
            for (const key of ["storage", "walStorage"] as const) {
                const sc = r.props.spec?.[key]?.storageClass;
                if (key === "walStorage" && !r.props.spec?.walStorage) continue;
                const cls = typeof sc === "string" ? classes.get(sc) : undefined;
                if (!cls) {
                    report(`CloudNativePG cluster ${name} ${key} uses ${sc ? `StorageClass ${sc}, which the stack does not declare` : "the cluster's default StorageClass"}: its reclaim policy and encryption are unknown.`, r.urn);
                } else if (cls.reclaimPolicy !== "Retain") {
                    report(`CloudNativePG cluster ${name} ${key} uses StorageClass ${sc} with reclaimPolicy ${cls.reclaimPolicy ?? "Delete"}: deleting the claim deletes the database's disk.`, r.urn);
                } else if (cls.provisioner === "ebs.csi.aws.com" && cls.parameters?.encrypted !== "true") {
                    report(`CloudNativePG cluster ${name} ${key} uses StorageClass ${sc}, whose EBS volumes are not encrypted.`, r.urn);
                }
            }
        }
    },
});

const RUNTIME_CLASS = "kubernetes:node.k8s.io/v1:RuntimeClass";

export const runtimeClassDeclared = stackPolicy({
    name: "runtime-class-available",
    summary: "Every runtimeClassName a workload uses must exist: declared as a RuntimeClass, or gvisor provided by a GKE Sandbox node pool.",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "Kubernetes RuntimeClass admission; GKE Sandbox (creates the gvisor RuntimeClass for sandbox-enabled pools)",
        why: "A pod naming a RuntimeClass that does not exist is rejected at admission: the sandboxed service would never start, and nothing in a preview would say so.",
    },
    fix: "Declare the RuntimeClass (handler runsc for gVisor) or add a GKE node pool with sandboxConfig { sandboxType: \"gvisor\" }.",
    validate: (args, report) => {
        const declared = new Set(args.resources.filter((r) => r.type === RUNTIME_CLASS).map((r) => objectName(r.props, r.name)));
        const gkeSandbox = args.resources.some((r) => r.type === "gcp:container/nodePool:NodePool" && r.props.nodeConfig?.sandboxConfig?.sandboxType === "gvisor");
        for (const w of args.resources) {
            const rc = podSpec(w.type, w.props)?.runtimeClassName;
            if (typeof rc !== "string" || rc === "") continue;
            if (!declared.has(rc) && !(rc === "gvisor" && gkeSandbox)) report(`${w.type.split(":").pop()} ${namespaceOf(w.props)}/${objectName(w.props, w.name)} uses RuntimeClass ${rc}, which the stack does not provide.`, w.urn);
        }
    },
});

export const serviceSelectsPods = stackPolicy({
    name: "k8s-service-selects-pods",
    summary: "A Service in a namespace with declared workloads must select the pods of at least one of them.",
    enforcement: "mandatory",
    meta: {
        area: "completeness",
        source: "kube-score service-targets-pod",
        why: "A selector that matches nothing gives the Service no endpoints: health checks, scraping and the ingress route fail without any error at deploy time.",
    },
    fix: "Make spec.selector a subset of the target workload's pod template labels.",
    validate: (args, report) => {
        const workloads = args.resources.filter((r) => isWorkloadType(r.type));
        for (const svc of args.resources.filter((r) => r.type === T.Service)) {
            const selector = svc.props.spec?.selector;
            if (!selector || Object.keys(selector).length === 0 || svc.props.spec?.type === "ExternalName") continue;
            const ns = namespaceOf(svc.props);
            const inNs = workloads.filter((w) => namespaceOf(w.props) === ns);
            if (inNs.length === 0) continue;
            if (!inNs.some((w) => selects(selector, podTemplate(w.type, w.props)?.metadata.labels))) {
                report(`Service ${ns}/${objectName(svc.props, svc.name)} selects no pods (${JSON.stringify(selector)}).`, svc.urn);
            }
        }
    },
});
