import { backupStaleAfterSeconds } from "../config/cron";
import { ConfigError, parsePlatformConfig, SECRET_KEYS } from "../config";

/** The figures the failover pre-checks and the drill judge by: the stack's own, as its alerts use them. */
export interface DrThresholds {
  /** Replica lag allowed before failing over (`database.maxReplicationLagSeconds`, the RPO). */
  readonly rpoSeconds: number;
  /** Age of the newest successful backup run allowed (BackupStale's threshold, from `backups.schedule`). */
  readonly backupMaxAgeSeconds: number;
  /** Age of the newest verified backup allowed (`restoreVerification.maxVerifiedBackupAgeHours`). */
  readonly verifiedBackupMaxAgeSeconds: number;
}

/**
 * A stack's config map as the Automation API gives it (`project:key` → the stored string, JSON for objects), reduced to
 * what the program parses: the project's keys without their prefix, secrets left out.
 */
export function rawPlatformConfig(project: string, all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(`${project}:`)) continue;
    const name = key.slice(project.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}

/**
 * The thresholds from a stack's config, parsed exactly as the program parses it (defaults applied), so the drill and
 * the failover pre-checks agree with the alerts that stack deploys. A config the program would refuse is refused here.
 */
export function drThresholds(raw: Record<string, unknown>, stackName: string): DrThresholds {
  let config;
  try {
    config = parsePlatformConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => `stack ${stackName}: ${p}`));
    throw e;
  }
  return {
    rpoSeconds: config.database.maxReplicationLagSeconds,
    backupMaxAgeSeconds: backupStaleAfterSeconds(config.backups.schedule),
    verifiedBackupMaxAgeSeconds: config.restoreVerification.maxVerifiedBackupAgeHours * 3600,
  };
}
