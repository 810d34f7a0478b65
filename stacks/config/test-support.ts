import { join } from "node:path";
import { ConfigError, parsePlatformConfig, PROJECT, SECRET_KEYS, type PlatformConfig } from "./index";
import { readStackConfig } from "../plan/stackConfig";

const ROOT = join(__dirname, "..", "..");

/** A stack file's keys (without the project prefix and without secrets), as the program reads them. */
export function stackRaw(stack: "prod" | "dr"): Record<string, any> {
  const secrets: readonly string[] = SECRET_KEYS;
  const file = readStackConfig(join(ROOT, `Pulumi.${stack}.yaml`), PROJECT, secrets);
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.values)) {
    if (!key.startsWith(`${PROJECT}:`) || secrets.includes(key.slice(PROJECT.length + 1))) continue;
    try {
      raw[key.slice(PROJECT.length + 1)] = JSON.parse(value);
    } catch {
      raw[key.slice(PROJECT.length + 1)] = value;
    }
  }
  return raw;
}

/** A stack file parsed exactly as the program parses it. */
export function stackConfig(stack: "prod" | "dr"): PlatformConfig {
  return parsePlatformConfig(stackRaw(stack));
}

/** The problems a config is refused with; fails the test when it is accepted. */
export function problems(raw: Record<string, unknown>): string[] {
  try {
    parsePlatformConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}
