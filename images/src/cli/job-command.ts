import pino, { type Logger } from "pino";
import { EnvError } from "../backup/env";

export interface JobCommand<Env> {
  /** The `component` every log line carries, e.g. `db-backup`. */
  readonly component: string;
  /** Prefix of the command's log events: `<event>.failed`, `<event>.stopping`. */
  readonly event: string;
  /** Reads the settings; throws `EnvError` naming the variable when one is wrong. */
  readonly parseEnv: (env: NodeJS.ProcessEnv) => Env;
  /** The work itself; resolves to the exit code. A thrown error is logged and exits 1. */
  readonly run: (env: Env, logger: Logger, signal: AbortSignal) => Promise<number>;
}

/**
 * The frame every CronJob command shares: bad settings exit 2 naming the variable; SIGTERM (the Job's deadline or an
 * eviction) and SIGINT abort the work through its signal; a failure is logged as `<event>.failed` and exits 1.
 */
export function runJobCommand<Env>(cmd: JobCommand<Env>): void {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: cmd.component } });
  const main = async (): Promise<number> => {
    let env: Env;
    try {
      env = cmd.parseEnv(process.env);
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      logger.fatal({ event: `${cmd.event}.failed`, err: err.message }, err.message);
      return 2;
    }
    const stop = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      process.once(sig, () => {
        logger.warn({ event: `${cmd.event}.stopping`, signal: sig }, "stopping");
        stoppedBy ??= sig;
        stop.abort(new Error(`stopped by ${sig}`));
      });
    }
    try {
      return await cmd.run(env, logger, stop.signal);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A stop shows as whatever it interrupted ("aborted", a killed tool): the signal says why.
      logger.error({ event: `${cmd.event}.failed`, err: message, ...(stoppedBy ? { stoppedBy } : {}) }, `${cmd.component} failed: ${message}`);
      return 1;
    }
  };
  let settled = false;
  // Node exits 0 once nothing is left to wait for, even with the work's promise still pending: a stream or child that
  // never closes would otherwise pass for success.
  process.once("beforeExit", () => {
    if (settled) return;
    const message = `${cmd.component} ended without finishing: nothing was left running to complete it`;
    logger.error({ event: `${cmd.event}.failed`, err: message }, message);
    process.exitCode = 1;
  });
  // A failed run can leave requests in flight that nothing will finish (an upload the store still holds open): the
  // run is over once its failure is logged, and waiting on them would hold the Job until its deadline. The exit waits
  // a moment, unreferenced, so that the asynchronous log line reaches stdout first and a clean exit stays clean.
  const exitSoon = () => setTimeout(() => process.exit(), 1000).unref();
  main().then(
    (code) => {
      settled = true;
      process.exitCode = code;
      if (code !== 0) exitSoon();
    },
    (err: unknown) => {
      settled = true;
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
      exitSoon();
    },
  );
}
