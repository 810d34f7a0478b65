import { parseArgs } from "node:util";
import { Pool } from "pg";
import { AdminError, createClient, issueKey, listClients, type NewKey, revokeClient, revokeKey, rotateKey } from "../runtime/auth-admin";
import { resolveSecretFiles } from "../runtime/secrets";

const USAGE = `usage: api-clients <command> [options]   (DATABASE_URL or DATABASE_URL_FILE names the jobs database)
  create <name> --scopes video,document,... [--expires <ISO date>]   new client and its first key
  issue-key <name> [--expires <ISO date>]                             one more key for a client
  rotate-key <name> <key id> [--overlap-hours 24] [--expires <date>]  new key; the old one expires after the overlap
  revoke-key <key id>                                                 refused from the next request on
  revoke <name>                                                       the client and all its keys
  list                                                                clients, scopes and key ids (never secrets)
A key is printed once, on stdout, and is not stored: only its SHA-256 is.`;

class UsageError extends Error {}

function date(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be a date such as 2027-01-31T00:00:00Z, got "${value}"`);
  return d;
}

function printKey(k: NewKey, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ client: k.clientName, clientId: k.clientId, keyId: k.keyId, key: k.key, expiresAt: k.expiresAt, ...extra })}\n`);
  process.stderr.write("The key above is shown once and is not stored anywhere: hand it to the client now.\n");
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { scopes: { type: "string" }, expires: { type: "string" }, "overlap-hours": { type: "string" }, help: { type: "boolean" } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  const o = parsed.values;
  if (o.help || !command) {
    process.stderr.write(`${USAGE}\n`);
    return o.help ? 0 : 2;
  }
  const url = resolveSecretFiles(env).DATABASE_URL;
  if (!url) {
    process.stderr.write("DATABASE_URL is required\n");
    return 2;
  }
  const pool = new Pool({ connectionString: url, max: 1, application_name: "api-clients" });
  const need = (n: number, what: string) => {
    if (rest.length !== n) throw new UsageError(`${command} takes ${what}`);
  };
  try {
    switch (command) {
      case "create": {
        need(1, "<name>");
        if (!o.scopes) throw new UsageError("create needs --scopes, e.g. --scopes video,document");
        printKey(await createClient(pool, { name: rest[0]!, scopes: o.scopes.split(",").map((s) => s.trim()), expiresAt: date(o.expires, "expires") }));
        break;
      }
      case "issue-key":
        need(1, "<name>");
        printKey(await issueKey(pool, rest[0]!, { expiresAt: date(o.expires, "expires") }));
        break;
      case "rotate-key": {
        need(2, "<name> <key id>");
        const hours = Number(o["overlap-hours"] ?? 24);
        if (!Number.isFinite(hours) || hours < 0) throw new UsageError(`--overlap-hours must be a number ≥ 0, got "${o["overlap-hours"]}"`);
        const k = await rotateKey(pool, rest[0]!, rest[1]!, { overlapSeconds: hours * 3600, expiresAt: date(o.expires, "expires") });
        printKey(k, { replaces: rest[1], replacedKeyExpiresAt: k.oldKeyExpiresAt });
        break;
      }
      case "revoke-key":
        need(1, "<key id>");
        await revokeKey(pool, rest[0]!);
        process.stdout.write(`${JSON.stringify({ revokedKey: rest[0] })}\n`);
        break;
      case "revoke":
        need(1, "<name>");
        await revokeClient(pool, rest[0]!);
        process.stdout.write(`${JSON.stringify({ revokedClient: rest[0] })}\n`);
        break;
      case "list":
        need(0, "no arguments");
        for (const c of await listClients(pool)) process.stdout.write(`${JSON.stringify(c)}\n`);
        break;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof AdminError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
