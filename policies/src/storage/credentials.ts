import type { PolicyResource } from "@pulumi/policy";
import { LONG_RUNNING_TYPES, WORKLOAD_TYPES, arr, namespaceOf, objectName, podTemplate, type Obj } from "../core/k8s";
import { configOf, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";

const SECRET = "kubernetes:core/v1:Secret";
/** What a credential's token may do (`write:bucket,read:bucket`), stated on its Secret by the program that minted it. */
export const GRANTS_ANNOTATION = "pitchey.io/object-store-grants";
const COMPONENT = "app.kubernetes.io/component";

/** A Secret holding an S3-style key pair (values are redacted in plans; the keys stay visible). */
function isObjectStoreCredential(s: PolicyResource): boolean {
    const keys = [...Object.keys(s.props.stringData ?? {}), ...Object.keys(s.props.data ?? {})];
    return keys.includes("AWS_SECRET_ACCESS_KEY") || typeof s.props.metadata?.annotations?.[GRANTS_ANNOTATION] === "string";
}

function writesBackups(s: PolicyResource, pattern: RegExp): boolean {
    const grants = String(s.props.metadata?.annotations?.[GRANTS_ANNOTATION] ?? "");
    return grants.split(",").some((g) => {
        const [access, bucket] = g.split(":");
        return access === "write" && bucket !== undefined && pattern.test(bucket);
    });
}

interface Holder {
    readonly r: PolicyResource;
    readonly what: string;
    readonly longRunning: boolean;
    readonly backupJob: boolean;
}

/** Workloads by the `namespace/secret` they mount (plain and projected secret volumes). */
function holdersBySecret(resources: readonly PolicyResource[], backupComponents: readonly string[]): Map<string, Holder[]> {
    const out = new Map<string, Holder[]>();
    for (const r of resources.filter((x) => WORKLOAD_TYPES.includes(x.type))) {
        const tpl = podTemplate(r.type, r.props);
        if (!tpl) continue;
        const labels: Obj = { ...(r.props.metadata?.labels ?? {}), ...(tpl.metadata.labels ?? {}) };
        const holder: Holder = {
            r,
            what: `${r.type.split(":").pop()} ${namespaceOf(r.props)}/${objectName(r.props, r.name)}`,
            longRunning: LONG_RUNNING_TYPES.includes(r.type),
            backupJob: !LONG_RUNNING_TYPES.includes(r.type) && backupComponents.includes(labels[COMPONENT]),
        };
        const names = new Set<string>();
        for (const v of arr<Obj>(tpl.spec.volumes)) {
            if (v?.secret?.secretName) names.add(v.secret.secretName);
            for (const src of arr<Obj>(v?.projected?.sources)) if (src?.secret?.name) names.add(src.secret.name);
        }
        for (const n of names) {
            const key = `${namespaceOf(r.props)}/${n}`;
            out.set(key, [...(out.get(key) ?? []), holder]);
        }
    }
    return out;
}

export const backupCredentialIsolated = stackPolicy({
    name: "object-store-backup-credential-isolated",
    summary:
        "An object-store credential that can write (and so delete) backups, or that a backup job mounts, is mounted only by the database's own jobs (backup, maintenance): never by a processor or other long-running workload.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Least privilege (NSA/CISA Kubernetes Hardening Guide, secrets; AWS Well-Architected SEC03-BP02); NIST SP 800-209 (protect backups from the systems they back up)",
        why: "R2 and S3 write permissions include delete: a backup credential mounted in a parser of hostile files lets one exploit erase every restore point. One token per use keeps a compromise to that use.",
    },
    fix: "Mint a separate credential per use (results, backup writer, backup reader), each scoped to its bucket, and mount the backup writer only in the backup CronJob (label app.kubernetes.io/component=backup; see backupJobComponents).",
    configSchema: schemaFor(["backupBucketPattern", "backupJobComponents"]),
    validate: (args, report) => {
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string, backupJobComponents: DEFAULTS.backupJobComponents });
        const pattern = new RegExp(cfg.backupBucketPattern, "i");
        const holders = holdersBySecret(args.resources, cfg.backupJobComponents);
        for (const s of args.resources.filter((r) => r.type === SECRET && isObjectStoreCredential(r))) {
            const key = `${namespaceOf(s.props)}/${objectName(s.props, s.name)}`;
            const list = holders.get(key) ?? [];
            const backup = writesBackups(s, pattern);
            const sharedWithBackupJob = list.some((h) => h.backupJob);
            if (!backup && !sharedWithBackupJob) continue;
            for (const h of list.filter((x) => !x.backupJob)) {
                const why = backup ? "its token can write and delete backups" : "the backup job mounts it too";
                report(`${h.what} mounts object-store Secret ${key}, but ${why}${h.longRunning ? " (a long-running workload)" : ""}.`, h.r.urn);
            }
        }
    },
});

const GRANT = /^(read|write):[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export const credentialScoped = stackPolicy({
    name: "object-store-credential-scoped",
    summary:
        "Every Secret holding an object-store key pair is one the program minted for named buckets: it states its token's grants (pitchey.io/object-store-grants, `read|write:<bucket>` each), so the isolation policies can judge where it is mounted.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Least privilege (NSA/CISA Kubernetes Hardening Guide, secrets; AWS Well-Architected SEC03-BP02, SEC02-BP03 rotate and scope credentials)",
        why: "A key pair set by hand (Loki's logs token once was) has whatever reach its creator gave it: nobody can tell from the stack whether it can delete backups, and object-store-backup-credential-isolated cannot see it. A minted token is limited to its bucket and says so.",
    },
    fix: "Mint the credential with R2Credential (components/backup/credentials.ts) for the buckets the workload needs, and let it annotate the Secret; remove hand-set key pairs from the stack config.",
    validate: (args, report) => {
        for (const s of args.resources.filter((r) => r.type === SECRET && isObjectStoreCredential(r))) {
            const key = `${namespaceOf(s.props)}/${objectName(s.props, s.name)}`;
            const stated = s.props.metadata?.annotations?.[GRANTS_ANNOTATION];
            if (typeof stated !== "string" || stated === "") {
                report(`Object-store Secret ${key} holds a key pair but does not state what its token may do (${GRANTS_ANNOTATION}): a hand-set key of unknown reach.`, s.urn);
                continue;
            }
            const bad = stated.split(",").filter((g) => !GRANT.test(g));
            if (bad.length > 0) report(`Object-store Secret ${key} states grants ${bad.map((g) => JSON.stringify(g)).join(", ")}; each must be read:<bucket> or write:<bucket> for one named bucket.`, s.urn);
        }
    },
});
