import http from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import { IdempotencyConflictError, type JobQueue, type JobView } from "../queue/queue";
import type { RuntimeMetrics } from "./metrics";
import { type HandlerRegistry, JOB_TYPES, type JobType } from "./types";

/** Same cap as the ingress. */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

const SubmitBody = z.strictObject({
  payload: z.unknown(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});

export interface HttpDeps {
  readonly queue: JobQueue;
  /** The types this server accepts; others get 404. */
  readonly handlers: HandlerRegistry;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  /** The process and its claim loops are alive. */
  readonly isAlive: () => boolean;
  /** Database reachable, warm, not draining. */
  readonly isReady: () => Promise<boolean>;
  readonly maxBodyBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error ?? status));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, { error: `Body exceeds ${limit} bytes` }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, { error: `Body exceeds ${limit} bytes` }));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
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

/** The processor's HTTP API, probes and metrics. */
export function createHttpServer(deps: HttpDeps): http.Server {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;

  /** `matched.route` is the route template for metrics, set as soon as it is known so errors are labelled too. */
  async function route(req: http.IncomingMessage, res: http.ServerResponse, matched: { route: string }): Promise<string> {
    const url = new URL(req.url ?? "/", "http://localhost");
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
    if (url.pathname === "/metrics" && method === "GET") {
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
      res.end(text);
      return "/metrics";
    }
    const m = JOBS_ROUTE.exec(url.pathname);
    if (!m) throw new HttpError(404, { error: "Not found" });
    const type = m[1] as JobType;
    const handler = (JOB_TYPES as readonly string[]).includes(type) ? deps.handlers[type] : undefined;
    matched.route = m[2] === undefined ? "/api/:type/jobs" : "/api/:type/jobs/:id";
    if (!handler) throw new HttpError(404, { error: `Unknown job type ${m[1]}` });

    if (m[2] === undefined) {
      if (method !== "POST") throw new HttpError(405, { error: "Use POST" });
      const raw = await readBody(req, limit);
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new HttpError(400, { error: "Body is not valid JSON" });
      }
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
        });
        if (created) deps.logger.info({ jobId: job.id, jobType: type }, "job submitted");
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
    const job = await deps.queue.get(decodeURIComponent(m[2]), type);
    if (!job) throw new HttpError(404, { error: "Job not found" });
    send(res, 200, jobResponse(job));
    return "/api/:type/jobs/:id";
  }

  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const matched = { route: "unmatched" };
    route(req, res, matched)
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          send(res, err.status, err.body);
          if (err.status === 413) res.once("finish", () => req.destroy());
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
