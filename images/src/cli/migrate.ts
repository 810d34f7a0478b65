import pino from "pino";
import { migrate } from "../db/migrate";

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: "migrate" } });
  const url = process.env.DATABASE_URL;
  if (!url) {
    logger.fatal("DATABASE_URL is required");
    process.exit(2);
  }
  const result = await migrate(url, { logger });
  logger.info({ applied: result.applied, alreadyApplied: result.skipped.length }, "migrations complete");
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
