/** Deepest JSON nesting a request may carry; payload schemas need a handful of levels. */
export const MAX_JSON_DEPTH = 64;

// U+0000 and unpaired UTF-16 surrogates: valid in a JS string, refused by PostgreSQL's text and jsonb.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when PostgreSQL's text and jsonb types can hold `s` as it is. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

export interface JsonProblem {
  readonly path: string;
  readonly message: string;
}

function describeChar(s: string): string {
  return s.includes("\u0000") ? "the character U+0000" : "an unpaired UTF-16 surrogate";
}

/**
 * Walks parsed JSON without recursion and returns the first part that cannot be validated or stored: nesting
 * deeper than `maxDepth` (validators recurse and would overflow the stack), or a string or key PostgreSQL refuses.
 */
export function findJsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: Array<{ v: unknown; path: Array<string | number>; depth: number }> = [{ v: value, path: [], depth: 0 }];
  const show = (path: Array<string | number>) => path.join(".") || "(body)";
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (!isStorableText(v)) return { path: show(path), message: `contains ${describeChar(v)}, which cannot be stored` };
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= maxDepth) return { path: show(path), message: `JSON is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i], depth: depth + 1 });
    } else {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (!isStorableText(key)) return { path: show(path), message: `a key contains ${describeChar(key)}, which cannot be stored` };
        stack.push({ v: child, path: [...path, key], depth: depth + 1 });
      }
    }
  }
  return undefined;
}

const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * The database cannot be reached or is not accepting work right now (connection refused or lost, server
 * starting or shutting down, too many connections, pool timeout): the request may succeed if retried.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof AggregateError && err.errors.some(isDatabaseUnavailable)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^(08|53|57P|58)/.test(code) && /^[0-9A-Z]{5}$/.test(code)) return true;
    if (UNAVAILABLE_ERRNO.has(code)) return true;
  }
  // node-postgres reports a lost or never-established connection and a pool wait timeout only in words.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Query read timeout/i.test(
    err.message,
  );
}
