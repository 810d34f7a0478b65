import { EnvError, presentEnv, s3Credentials } from "./env";

export interface VerifyEnv {
  /** The jobs database, where the outcome is recorded. */
  readonly databaseUrl: string;
  /** The scratch server's maintenance database (the Job's sidecar). */
  readonly scratchUrl: string;
  readonly storeUrl: string;
  readonly s3: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
  readonly pgBinDir?: string;
  /** How long to wait for the scratch server to accept connections. */
  readonly scratchWaitSeconds: number;
}

const postgresUrl = (v: string | undefined) => v !== undefined && /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v);

/** host:port:database, to tell two servers' databases apart. */
function place(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}`;
}

/**
 * The restore verifier's settings; every bad variable is named in one error. The scratch server must not be the
 * jobs database's: a restore creates and drops a database there.
 */
export function parseVerifyEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): VerifyEnv {
  const e = presentEnv(env, readSecret);
  const problems: string[] = [];
  if (!postgresUrl(e.DATABASE_URL)) problems.push("DATABASE_URL (or DATABASE_URL_FILE) must be a postgres:// URL");
  if (!postgresUrl(e.SCRATCH_SERVER_URL)) problems.push("SCRATCH_SERVER_URL must be a postgres:// URL (the scratch server's maintenance database)");
  if (!e.BACKUP_STORE_URL || !/^(file:\/\/\/.+|s3:\/\/[^/]+.*)$/.test(e.BACKUP_STORE_URL)) problems.push("BACKUP_STORE_URL must be file:///dir or s3://bucket[/prefix]");
  if (e.BACKUP_S3_ENDPOINT !== undefined && !URL.canParse(e.BACKUP_S3_ENDPOINT)) problems.push("BACKUP_S3_ENDPOINT must be a URL");
  if (e.PG_BIN_DIR !== undefined && !e.PG_BIN_DIR.startsWith("/")) problems.push("PG_BIN_DIR must be an absolute directory");
  const wait = e.SCRATCH_WAIT_SECONDS === undefined ? 120 : Number(e.SCRATCH_WAIT_SECONDS);
  if (!Number.isSafeInteger(wait) || wait < 0) problems.push(`SCRATCH_WAIT_SECONDS must be a whole number of seconds, got ${JSON.stringify(e.SCRATCH_WAIT_SECONDS)}`);
  if (problems.length === 0 && place(e.DATABASE_URL!) === place(e.SCRATCH_SERVER_URL!)) {
    problems.push("SCRATCH_SERVER_URL names the jobs database's server; a restore verification needs a server of its own");
  }
  if (problems.length > 0) throw new EnvError(`invalid environment: ${problems.join("; ")}`);
  return {
    databaseUrl: e.DATABASE_URL!,
    scratchUrl: e.SCRATCH_SERVER_URL!,
    storeUrl: e.BACKUP_STORE_URL!,
    s3: {
      endpoint: e.BACKUP_S3_ENDPOINT,
      region: e.BACKUP_S3_REGION ?? e.AWS_REGION,
      ...s3Credentials(e),
    },
    pgBinDir: e.PG_BIN_DIR,
    scratchWaitSeconds: wait,
  };
}
