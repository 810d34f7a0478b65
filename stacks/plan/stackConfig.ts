import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface StackConfigFile {
  /** `project:key` → value as Pulumi hands it to the program (objects JSON-encoded). */
  values: Record<string, string>;
  /** Keys whose values are secrets. */
  secretKeys: string[];
  /** Secrets the file holds encrypted; the plan cannot decrypt them and substitutes placeholders. */
  placeholders: string[];
}

/** A stack file that cannot be read or is not a stack file; the message says which and why. */
export class StackFileError extends Error {
  override name = "StackFileError";
}

const isSecure = (v: unknown): v is { secure: string } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { secure?: unknown }).secure === "string";

/**
 * Reads a stack file (`config:` map). Encrypted values (`secure:`) become placeholders: the plan has no key to
 * decrypt them, and they only ever flow into Secrets, which the plan redacts.
 */
export function readStackConfig(path: string, project: string, secretNames: readonly string[]): StackConfigFile {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new StackFileError(`${path}: cannot read stack config: ${(e as Error).message}`);
  }
  const config = (doc as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${path}: expected a top-level \`config:\` map`);
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  for (const [rawKey, value] of Object.entries(config)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (isSecure(value)) {
      values[key] = placeholderFor(key);
      secretKeys.push(key);
      placeholders.push(key);
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  for (const name of secretNames) {
    const key = `${project}:${name}`;
    if (!(key in values)) {
      values[key] = placeholderFor(key);
      secretKeys.push(key);
      placeholders.push(key);
    }
  }
  return { values, secretKeys, placeholders };
}

const placeholderFor = (key: string) =>
  key.endsWith(":databaseUrl") ? "postgres://processors:placeholder@jobs-db.invalid:5432/jobs?sslmode=require" : "placeholder";
