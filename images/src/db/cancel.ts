import { Client } from "pg";

/**
 * Cancels the statement `client` is running once `signal` aborts (the Job's deadline): a statement left waiting on a
 * lock or grinding through a table would hold the run, and the server, past the stop. Returns a function that stops
 * listening; callers check `signal` before each statement themselves.
 */
export async function cancelOnAbort(client: Client, url: string, signal: AbortSignal | undefined): Promise<() => void> {
  if (!signal) return () => undefined;
  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const cancel = () => void cancelBackend(url, rows[0]!.pid);
  signal.addEventListener("abort", cancel, { once: true });
  return () => signal.removeEventListener("abort", cancel);
}

/** From a connection of its own: the busy one cannot be used. */
async function cancelBackend(url: string, pid: number): Promise<void> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: "cancel-on-stop" });
  c.on("error", () => undefined);
  try {
    await c.connect();
    await c.query("SELECT pg_cancel_backend($1)", [pid]);
  } catch {
    // The server is gone or unreachable: the statement ends with the connection.
  } finally {
    await c.end().catch(() => undefined);
  }
}
