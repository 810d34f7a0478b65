import * as pulumi from "@pulumi/pulumi";
import { PROJECT, SECRET_KEYS, type PlatformConfig } from "../config";
import { installMocks, RecordingMocks, type RecordedResource } from "../../components/testing/mocks";
import { readStackConfig } from "./stackConfig";
import { stackReferenceOutputs } from "./stackReference";

export interface PlanRun {
  readonly stack: string;
  readonly resources: RecordedResource[];
  readonly dependencies: Map<string, string[]>;
  /** Secret keys the plan filled with placeholders. */
  readonly placeholders: string[];
  readonly outputs: Record<string, unknown>;
  /** The stack's parsed configuration. */
  readonly config: PlatformConfig;
}

/** How the runtime marks a secret value on the wire. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SECRET_PLACEHOLDER = "[secret]";

/** Keeps a secret's shape (a Secret's keys stay visible to policies) and drops every value. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v)]));
  }
  return SECRET_PLACEHOLDER;
}

/**
 * Plain JSON for records: secrets redacted, resource references named, everything else as the program passed it.
 */
function plain(value: unknown): unknown {
  if (pulumi.Resource.isInstance(value)) return `[resource ${(value as unknown as { __name?: string }).__name ?? ""}]`;
  if (value && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG) {
    return redact((value as { value?: unknown }).value);
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * Runs the stack's real program under Pulumi's mock runtime: the same composition root `pulumi up` runs,
 * with config from the stack file and providers replaced by recording mocks.
 */
export async function runPlan(stack: string, configFile: string): Promise<PlanRun> {
  const cfg = readStackConfig(configFile, PROJECT, SECRET_KEYS);
  // A StackReference's outputs come from the referenced stack's own file (see stackReference.ts).
  const mocks = new RecordingMocks({ "pulumi:pulumi:StackReference": (i) => ({ outputs: stackReferenceOutputs(String(i.name)) }) });
  await installMocks(mocks, PROJECT, stack);
  pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);

  // Imported only now: modules that touch Pulumi at load time must see the mocks.
  const { loadStackInputs } = await import("../config");
  // Config errors surface here, before any resource is registered.
  const inputs = loadStackInputs();
  const { createPlatform } = await import("../platform");
  const { createCluster } = await import("../cluster");
  let outputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    const platform = createPlatform(inputs, createCluster);
    outputs = {
      cloud: platform.cloud,
      clusterName: platform.clusterName,
      kubeconfig: platform.kubeconfig,
      namespace: platform.namespace,
      images: platform.images,
      backupCopy: platform.backupCopy,
      failover: platform.failover,
    };
    return outputs;
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const resolved = await new Promise<Record<string, unknown>>((done) =>
    pulumi.output(outputs).apply((v) => done(v as Record<string, unknown>)),
  );
  const resources = mocks.resources.map((r) => ({ ...r, props: plain(r.props) as Record<string, unknown> }));
  return { stack, config: inputs.config, resources, dependencies: mocks.dependencies, placeholders: cfg.placeholders, outputs: resolved };
}

/** A plan's records as `resources.json` holds them: what the policy pack (and `npm run policy`) reads. */
export function planRecords(resources: readonly RecordedResource[]) {
  return resources.map(({ urn, type, name, parent, props, aliases, customTimeouts }) => ({
    urn,
    type,
    name,
    parent,
    props,
    ...(aliases ? { aliases } : {}),
    ...(customTimeouts ? { customTimeouts } : {}),
  }));
}
