import http from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import { IdempotencyConflictError, type JobQueue, type JobView } from "../queue/queue";
import { AuthError, type Caller, requireScope } from "./auth";
import type { RuntimeMetrics } from "./metrics";
import { findJsonProblem, isDatabaseUnavailable } from "./request";
import { DEFAULT_MAX_REQUEST_BYTES, type HandlerRegistry, JOB_TYPES, type JobType } from "./types";

/** Same cap as the ingress; each type's own (smaller) cap applies first. */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

/** What a client waiting out a database outage is told to wait, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

const SubmitBody = z.strictObject({
  payload: z.unknown(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});

/** Verifies a request's credential (see auth.ts); throws {@link AuthError} to refuse. */
export interface Authenticator {
  authenticate(header: string | string[] | undefined): Promise<Caller>;
}

export interface HttpDeps {
  readonly queue: JobQueue;
  /**
   * Who may submit and read jobs. `"disabled"` (local development only) accepts anyone and shows every job; a
   * public route to a processor with authentication disabled is refused by the policy pack.
   */
  readonly auth: Authenticator | "disabled";
  /** The types this server accepts; others get 404. */
  readonly handlers: HandlerRegistry;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  /** The process and its claim loops are alive. */
  readonly isAlive: () => boolean;
  /** Database reachable, warm, not draining. */
  readonly isReady: () => Promise<boolean>;
  /** Upper bound over every type's own cap. Default {@link MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
    /** Refused before the body was read: drain a little of it and close the connection. */
    readonly unreadBody = false,
  ) {
    super(String(body.error ?? status));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, { error: `Body exceeds ${limit} bytes` }, {}, true));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new HttpError(413, { error: `Body exceeds ${limit} bytes` }, {}, true));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Reads and drops what remains of a refused body, up to a bound in bytes and time, then closes the connection. */
function discardRest(req: http.IncomingMessage, maxBytes = 1024 * 1024, maxMs = 2000): void {
  let seen = 0;
  const close = () => {
    clearTimeout(timer);
    req.destroy();
  };
  const timer = setTimeout(close, maxMs);
  timer.unref();
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) close();
  });
  // All of it read: the answer (sent with `connection: close`) goes out whole and Node closes the socket after it.
  // Destroying here could drop the answer still queued for the socket.
  req.once("end", () => clearTimeout(timer));
  req.resume();
}

function issues(error: z.ZodError, prefix: Array<string | number>) {
  return error.issues.map((i) => ({ path: [...prefix, ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))].join("."), message: i.message }));
}

export function jobResponse(job: JobView) {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    attempts: job.attempts,
    ...(job.result !== null && job.result !== undefined ? { result: job.result } : {}),
    ...(job.error ? { error: job.error } : {}),
    ...(job.progress !== null ? { progress: job.progress } : {}),
    ...(job.progressMessage ? { progressMessage: job.progressMessage } : {}),
    createdAt: job.createdAt.toISOString(),
    ...(job.completedAt ? { completedAt: job.completedAt.toISOString() } : {}),
  };
}

const JOBS_ROUTE = /^\/api\/([a-z]+)\/jobs(?:\/([^/]+))?\/?$/;

/** The processor's HTTP API and probes (metrics have their own port: metrics-server.ts). */
export function createHttpServer(deps: HttpDeps): http.Server {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;

  /** `matched.route` is the route template for metrics, set as soon as it is known so errors are labelled too. */
  async function route(req: http.IncomingMessage, res: http.ServerResponse, matched: { route: string }): Promise<string> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      throw new HttpError(400, { error: "Malformed request target" });
    }
    const method = req.method ?? "GET";
    if (url.pathname === "/health" && method === "GET") {
      const alive = deps.isAlive();
      send(res, alive ? 200 : 503, { status: alive ? "ok" : "stalled" });
      return "/health";
    }
    if (url.pathname === "/ready" && method === "GET") {
      const ready = await deps.isReady().catch(() => false);
      send(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
      return "/ready";
    }
    const m = JOBS_ROUTE.exec(url.pathname);
    if (!m) throw new HttpError(404, { error: "Not found" });
    const type = m[1] as JobType;
    const handler = (JOB_TYPES as readonly string[]).includes(type) ? deps.handlers[type] : undefined;
    matched.route = m[2] === undefined ? "/api/:type/jobs" : "/api/:type/jobs/:id";
    // Credentials first: who is not let in learns nothing, not even which types this server serves.
    const caller = await authenticate(req, method);
    if (!handler) throw new HttpError(404, { error: `Unknown job type ${m[1]}` });

    if (m[2] === undefined) {
      if (method !== "POST") throw new HttpError(405, { error: "Use POST" });
      if (caller) refuseOutOfScope(caller, type);
      const raw = await readBody(req, Math.min(limit, handler.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES));
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new HttpError(400, { error: "Body is not valid JSON" });
      }
      // Before validation, which recurses, and before storage, which refuses some strings.
      const problem = findJsonProblem(json);
      if (problem) throw new HttpError(400, { error: "Invalid request", issues: [problem] });
      const body = SubmitBody.safeParse(json);
      if (!body.success) throw new HttpError(400, { error: "Invalid request", issues: issues(body.error, []) });
      if (body.data.payload === undefined) {
        throw new HttpError(400, { error: "Invalid request", issues: [{ path: "payload", message: "Required" }] });
      }
      const payload = handler.payloadSchema.safeParse(body.data.payload);
      if (!payload.success) {
        throw new HttpError(400, { error: "Invalid payload", issues: issues(payload.error, ["payload"]) });
      }
      try {
        // The payload is stored as submitted: the worker parses it again at run time, and
        // parsing a schema's own output twice is not safe for every schema (transforms).
        const { job, created } = await deps.queue.submit(type, body.data.payload, {
          priority: body.data.priority,
          idempotencyKey: body.data.idempotencyKey,
          maxAttempts: body.data.maxAttempts,
          owner: caller?.clientId,
        });
        if (created) deps.logger.info({ jobId: job.id, jobType: type, client: caller?.clientName, keyId: caller?.keyId }, "job submitted");
        send(res, created ? 202 : 200, { id: job.id, status: job.status });
      } catch (err) {
        if (err instanceof IdempotencyConflictError) {
          throw new HttpError(409, { error: err.message, id: err.existing.id });
        }
        throw err;
      }
      return "/api/:type/jobs";
    }
    if (method !== "GET") throw new HttpError(405, { error: "Use GET" });
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      throw new HttpError(400, { error: "Invalid request", issues: [{ path: "id", message: "malformed percent-encoding in the job id" }] });
    }
    // Another client's job is answered exactly like a job that does not exist, so ids reveal nothing.
    const job = await deps.queue.get(id, type, caller?.clientId);
    if (!job) throw new HttpError(404, { error: "Job not found" });
    send(res, 200, jobResponse(job));
    return "/api/:type/jobs/:id";
  }

  async function authenticate(req: http.IncomingMessage, method: string): Promise<Caller | undefined> {
    if (deps.auth === "disabled") return undefined;
    try {
      return await deps.auth.authenticate(req.headers.authorization);
    } catch (err) {
      if (err instanceof AuthError) throw new HttpError(err.status, { error: err.message }, { "www-authenticate": err.challenge }, method === "POST");
      throw err;
    }
  }

  function refuseOutOfScope(caller: Caller, type: JobType): void {
    try {
      requireScope(caller, type);
    } catch (err) {
      if (err instanceof AuthError) throw new HttpError(err.status, { error: err.message }, { "www-authenticate": err.challenge }, true);
      throw err;
    }
  }

  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const matched = { route: "unmatched" };
    route(req, res, matched)
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          if (err.unreadBody) {
            // Closing at once with unread bytes in the socket resets it, and the client may never see the answer:
            // discard a little of the rest so the answer arrives, then close whatever is left.
            send(res, err.status, err.body, { ...err.headers, connection: "close" });
            discardRest(req);
          } else {
            send(res, err.status, err.body, err.headers);
          }
        } else if (isDatabaseUnavailable(err)) {
          deps.logger.warn({ err: (err as Error).message }, "database unavailable; asked the client to retry");
          send(res, 503, { error: "Database unavailable; retry later" }, { "retry-after": String(RETRY_AFTER_SECONDS) });
        } else {
          deps.logger.error({ err }, "request failed");
          send(res, 500, { error: "Internal error" });
        }
        return matched.route;
      })
      .then((routeName) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        deps.metrics.httpRequests.inc({ method, route: routeName, status: String(res.statusCode) });
        deps.metrics.httpDuration.observe({ method, route: routeName }, seconds);
      });
  });
}
