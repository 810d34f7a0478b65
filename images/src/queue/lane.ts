import { Client, type ClientConfig, type QueryConfig, type QueryResult, type QueryResultRow } from "pg";

/**
 * One database session that carries several statements at once: node-postgres
 * pipelines them (each its own extended-protocol exchange ending in Sync, so
 * each runs in its own implicit transaction and an error fails only its own
 * statement), and the server runs them one after another without waiting for
 * the client between them. A worker's claims go through one lane and its
 * completion writes through another, instead of a pooled session per
 * statement in flight: every session costs a backend, an authentication and
 * its first plans, about 6–10 ms of CPU between the worker and the server.
 *
 * The session opens on first use. When it fails, every statement in flight on
 * it fails with the connection's error (callers retry transient errors), and
 * the next statement opens a new one.
 */
export class Lane {
  private client: Client | undefined;
  private ended = false;

  /** `setup`: statements every new session runs before anything else (session settings). */
  constructor(
    private readonly config: ClientConfig,
    private readonly setup: readonly string[] = [],
  ) {}

  query<R extends QueryResultRow = QueryResultRow>(query: QueryConfig): Promise<QueryResult<R>> {
    if (this.ended) return Promise.reject(new Error("lane closed"));
    return (this.client ?? this.open()).query<R>(query);
  }

  /** Opens the session ahead of its first statement. */
  warm(): void {
    if (!this.ended && !this.client) this.open();
  }

  /**
   * Closes the session once the statements already sent are answered, or
   * after `graceMs` at once (a server that stopped answering would otherwise
   * hold it open until the statement timeout).
   */
  async end(graceMs = 1000): Promise<void> {
    this.ended = true;
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    const closed = c.end().then(() => true, () => true);
    const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
    if (!(await Promise.race([closed, timer]))) c.connection.stream.destroy();
  }

  private open(): Client {
    const c = new Client({ ...this.config, pipeline: true });
    // An option this client does not know would be ignored silently, and the lane would send one statement at a time.
    if (c.pipeline !== true) throw new Error("node-postgres did not enable pipelining: the lane needs pg 8.23 or later (its `pipeline` option)");
    this.client = c;
    const drop = () => {
      if (this.client !== c) return;
      this.client = undefined;
      c.end().catch(() => undefined);
    };
    c.on("error", drop);
    c.on("end", drop);
    // Statements sent meanwhile wait for the session; a failed connect fails them.
    c.connect().catch(drop);
    // Queued first, so they run before any statement sent through the lane. A session without its settings is closed.
    for (const text of this.setup) c.query(text).catch(drop);
    return c;
  }
}
