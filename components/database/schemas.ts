import { z } from "zod";

/**
 * The parts of the CloudNativePG and Barman Cloud plugin CRDs this program sets, as strict schemas: a misspelt or
 * misplaced field fails the plan instead of being pruned by the API server. Field names follow the CRDs of
 * CloudNativePG 1.30 (`postgresql.cnpg.io/v1`) and plugin-barman-cloud 0.13 (`barmancloud.cnpg.io/v1`).
 */
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const metadata = z.object({ name, namespace: name, labels: z.record(z.string(), z.string()).optional() }).loose();
const secretKeyRef = z.strictObject({ name, key: z.string().min(1) });
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/);
const toleration = z.strictObject({ key: z.string(), operator: z.enum(["Equal", "Exists"]), value: z.string().optional(), effect: z.string() });
const pluginRef = z.strictObject({ name: z.string().min(1), parameters: z.record(z.string(), z.string()).optional() });

const cluster = z.strictObject({
  instances: z.number().int().min(1),
  imageName: z.string().min(1),
  primaryUpdateStrategy: z.enum(["unsupervised", "supervised"]),
  enableSuperuserAccess: z.boolean(),
  postgresql: z.strictObject({ parameters: z.record(z.string(), z.string()) }),
  storage: z.strictObject({ size: quantity, storageClass: name }),
  walStorage: z.strictObject({ size: quantity, storageClass: name }),
  affinity: z.strictObject({
    topologyKey: z.string(),
    podAntiAffinityType: z.enum(["preferred", "required"]),
    nodeSelector: z.record(z.string(), z.string()),
    tolerations: z.array(toleration),
  }),
  topologySpreadConstraints: z.array(
    z.strictObject({
      maxSkew: z.number().int().min(1),
      topologyKey: z.string(),
      whenUnsatisfiable: z.enum(["DoNotSchedule", "ScheduleAnyway"]),
      labelSelector: z.strictObject({ matchLabels: z.record(z.string(), z.string()) }),
    }),
  ),
  monitoring: z.strictObject({ customQueriesConfigMap: z.array(z.strictObject({ name, key: z.string() })) }),
  resources: z.strictObject({
    requests: z.strictObject({ cpu: quantity, memory: quantity }),
    limits: z.strictObject({ cpu: quantity, memory: quantity }),
  }),
  plugins: z.array(pluginRef.extend({ isWALArchiver: z.boolean().optional() })),
  managed: z.strictObject({
    roles: z.array(
      z.strictObject({
        name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
        ensure: z.enum(["present", "absent"]),
        login: z.boolean(),
        inRoles: z.array(z.string()).optional(),
        connectionLimit: z.number().int().optional(),
        passwordSecret: z.strictObject({ name }),
      }),
    ),
  }),
  inheritedMetadata: z.strictObject({ labels: z.record(z.string(), z.string()) }),
  bootstrap: z.union([
    z.strictObject({ initdb: z.strictObject({ database: z.string(), owner: z.string(), secret: z.strictObject({ name }) }) }),
    z.strictObject({ recovery: z.strictObject({ source: name, database: z.string(), owner: z.string() }) }),
  ]),
  externalClusters: z.array(z.strictObject({ name, plugin: pluginRef })).optional(),
  replica: z.strictObject({ enabled: z.boolean(), source: name }).optional(),
});

const objectStore = z.strictObject({
  retentionPolicy: z.string().regex(/^[1-9][0-9]*[dwm]$/).optional(),
  configuration: z.strictObject({
    destinationPath: z.string().regex(/^s3:\/\/[^/]+\/.*/),
    endpointURL: z.url(),
    s3Credentials: z.strictObject({ accessKeyId: secretKeyRef, secretAccessKey: secretKeyRef }),
    wal: z.strictObject({ compression: z.enum(["gzip", "bzip2", "snappy", "lz4", "zstd"]), maxParallel: z.number().int().min(1) }),
    data: z.strictObject({ compression: z.enum(["gzip", "bzip2", "snappy"]), jobs: z.number().int().min(1) }),
  }),
  instanceSidecarConfiguration: z.strictObject({ env: z.array(z.strictObject({ name: z.string(), value: z.string() })) }),
});

const scheduledBackup = z.strictObject({
  schedule: z.string().regex(/^(\S+\s+){5}\S+$/, "expected a 6-field cron (seconds first)"),
  backupOwnerReference: z.enum(["none", "self", "cluster"]),
  cluster: z.strictObject({ name }),
  method: z.enum(["barmanObjectStore", "volumeSnapshot", "plugin"]),
  pluginConfiguration: z.strictObject({ name: z.string() }),
  target: z.enum(["primary", "prefer-standby"]),
  immediate: z.boolean(),
});

const pooler = z.strictObject({
  cluster: z.strictObject({ name }),
  instances: z.number().int().min(0),
  type: z.enum(["rw", "ro", "r"]),
  pgbouncer: z.strictObject({ poolMode: z.enum(["session", "transaction"]), parameters: z.record(z.string(), z.string()) }),
  template: z.strictObject({
    metadata: z.strictObject({ labels: z.record(z.string(), z.string()) }),
    spec: z.strictObject({ nodeSelector: z.record(z.string(), z.string()), tolerations: z.array(toleration), containers: z.array(z.unknown()) }),
  }),
});

const object = (apiVersion: string, kind: string, spec: z.ZodType) =>
  z.strictObject({ apiVersion: z.literal(apiVersion), kind: z.literal(kind), metadata, spec });

/** `apiVersion/kind` → schema of the whole object. */
export const DATABASE_SCHEMAS: Record<string, z.ZodType> = {
  "postgresql.cnpg.io/v1/Cluster": object("postgresql.cnpg.io/v1", "Cluster", cluster),
  "postgresql.cnpg.io/v1/Pooler": object("postgresql.cnpg.io/v1", "Pooler", pooler),
  "postgresql.cnpg.io/v1/ScheduledBackup": object("postgresql.cnpg.io/v1", "ScheduledBackup", scheduledBackup),
  "barmancloud.cnpg.io/v1/ObjectStore": object("barmancloud.cnpg.io/v1", "ObjectStore", objectStore),
};
