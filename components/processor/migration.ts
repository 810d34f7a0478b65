import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { runToCompletionPodSpec } from "./builders";

export interface MigrationJobArgs {
  /** Any processor image: each carries the migrations and their runner. */
  readonly image: pulumi.Input<string>;
  /** Secret holding `DATABASE_URL`, mounted as a file. */
  readonly databaseSecretName: string;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
  /** Give up after this long; a migration that takes longer needs a human. Default 600. */
  readonly deadlineSeconds?: number;
}

/** The schema migration, run by the same command as `npm run migrate`, before any processor rolls out. */
export function migrationJobSpec(args: MigrationJobArgs): k8s.types.input.batch.v1.JobSpec {
  return {
    backoffLimit: 3,
    activeDeadlineSeconds: args.deadlineSeconds ?? 600,
    template: {
      metadata: { labels: args.labels },
      spec: runToCompletionPodSpec({
        name: "migrate",
        image: args.image,
        command: ["node", "dist/cli/migrate.js"],
        env: [],
        secrets: [{ secretName: args.databaseSecretName, keys: ["DATABASE_URL"] }],
        resources: {
          requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
          limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "128Mi" },
        },
        serviceAccountName: args.serviceAccountName,
        pool: args.pool,
        tmpSize: "128Mi",
      }),
    },
  };
}

/**
 * `jobs-migrate-<hash>`, the hash over every file in `<imageContext>/migrations` (names and content): the Job is
 * replaced, and so runs again, exactly when the migrations change.
 */
export function migrationJobName(imageContext: string): string {
  const dir = join(imageContext, "migrations");
  const hash = createHash("sha256");
  for (const file of readdirSync(dir).sort()) hash.update(file).update("\0").update(readFileSync(join(dir, file))).update("\0");
  return `jobs-migrate-${hash.digest("hex").slice(0, 10)}`;
}
