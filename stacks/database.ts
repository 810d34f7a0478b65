import { r2Endpoint } from "../components/backup/builders";
import type { ArchiveLocation } from "../components/database/builders";
import type { PlatformConfig } from "./config";

/** Namespace and name of the database the program runs. */
export const DATABASE_NAMESPACE = "jobs-db";
export const DATABASE_CLUSTER = "jobs-db";
export const DATABASE_OPERATOR_NAMESPACE = "cnpg-system";

/**
 * Where a stack's database archives its WAL and base backups: its backup bucket on R2, one folder per
 * environment. The dr stack reads prod's through the StackReference output `databaseArchive`.
 */
export function archiveLocationFor(config: PlatformConfig): ArchiveLocation {
  return {
    destinationPath: `s3://${config.backups.bucket}/cnpg/`,
    endpointURL: r2Endpoint(config.backups.accountId),
    serverName: `${DATABASE_CLUSTER}-${config.environment}`,
  };
}

/**
 * The stack whose database this one replays, while it does: dr's until failover promotes it (phase 100), then
 * `undefined`, as on prod. Writing (the backup job's record, restore verification, maintenance) needs a primary.
 */
export function replayedPrimary(config: PlatformConfig): string | undefined {
  return config.database.replicaOf && config.failover.phase !== 100 ? config.database.replicaOf.stack : undefined;
}
