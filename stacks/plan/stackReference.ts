import { existsSync } from "node:fs";
import { PROJECT, parsePlatformConfig } from "../config";
import { archiveLocationFor } from "../database";
import { originHostOf } from "../edge";
import { readStackConfig, StackFileError } from "./stackConfig";

/**
 * What a referenced stack exports, computed from its own stack file the way its program computes it: the plan of
 * one stack never deploys the other, but a StackReference to `org/project/<stack>` reads `Pulumi.<stack>.yaml`.
 */
export function stackReferenceOutputs(name: string): Record<string, unknown> {
  const stack = name.split("/").pop()!;
  const file = `Pulumi.${stack}.yaml`;
  if (!existsSync(file)) throw new StackFileError(`StackReference ${name}: the plan reads the referenced stack's outputs from ${file}, which does not exist`);
  const { values } = readStackConfig(file, PROJECT, []);
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith(`${PROJECT}:`)) continue;
    try {
      raw[key.slice(PROJECT.length + 1)] = JSON.parse(value);
    } catch {
      raw[key.slice(PROJECT.length + 1)] = value;
    }
  }
  const config = parsePlatformConfig(raw);
  // The origin's address is the cloud's to assign; its host name is the stack's own.
  return { edgeOriginHost: originHostOf(config), ...(config.database.cidrs ? {} : { databaseArchive: archiveLocationFor(config) }) };
}
