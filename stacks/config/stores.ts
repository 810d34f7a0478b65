import { r2AccountOf } from "../../components/backup/builders";
import type { PlatformConfig } from "./schema";

/** `s3://bucket/prefix` or `gs://bucket/prefix` → `bucket`; `undefined` for local stores. */
export function bucketOf(storeUrl: string): string | undefined {
  const m = /^(?:s3|gs):\/\/([^/]+)/.exec(storeUrl);
  return m?.[1];
}

/**
 * The results bucket the backups mirror daily under their bucket's `r2/`: the results store when it is on R2 in the
 * backups' own account (one token can read the one and write the other); `undefined` otherwise, and no mirror runs.
 */
export function mirroredResultsBucket(config: PlatformConfig): string | undefined {
  const account = config.results.s3Endpoint ? r2AccountOf(config.results.s3Endpoint) : undefined;
  const bucket = bucketOf(config.results.storeUrl);
  return bucket && account === config.backups.accountId ? bucket : undefined;
}
