import pino from "pino";
import { migrate } from "../db/migrate";

// The migration Job can start before the database accepts connections.
const CONNECT_ATTEMPTS = 10;
const isNotUpYet = (err: unknown) => {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  return code.startsWith("ECONN") || code === "ENOTFOUND" || code === "57P03" || code.startsWith("08");
};

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: "migrate" } });
  const url = process.env.DATABASE_URL;
  if (!url) {
    logger.fatal("DATABASE_URL is required");
    process.exit(2);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await migrate(url, { logger });
      logger.info({ applied: result.applied, alreadyApplied: result.skipped.length }, "migrations complete");
      return;
    } catch (err) {
      if (!isNotUpYet(err) || attempt >= CONNECT_ATTEMPTS) throw err;
      logger.warn({ err: (err as Error).message, attempt }, "database not reachable yet; retrying");
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
