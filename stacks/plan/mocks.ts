import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_COMPUTED, CLUSTER_INVOKES } from "../../components/cluster/mocks";

/** One registered resource as the plan records it: what `pulumi up` would send to the engine. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  /** The resource's inputs, as the program passed them. */
  props: Record<string, unknown>;
  id: string | null;
  custom: boolean;
  provider: string | null;
}

export type ComputedOutputs = (inputs: Record<string, any>, name: string, id: string) => Record<string, unknown>;
export type InvokeMock = (inputs: Record<string, any>) => Record<string, unknown>;

export const fakeDigest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

/**
 * Outputs a provider computes on create that the program reads downstream. Providers fill these in for real;
 * here they are deterministic so plans are reproducible.
 */
const COMPUTED: Record<string, ComputedOutputs> = {
  "docker-build:index:Image": (inputs, name) => {
    const digest = fakeDigest(`${name}:${JSON.stringify(inputs.context ?? {})}:${inputs.target ?? ""}`);
    const tag = (inputs.tags?.[0] as string | undefined) ?? `registry.invalid/${name}:latest`;
    const repo = tag.replace(/:[^:/]+$/, "");
    return { digest, ref: `${repo}@${digest}` };
  },
  "random:index/randomPassword:RandomPassword": (_i, name) => ({ result: `mock-${name}-password` }),
  "random:index/randomId:RandomId": (_i, name) => ({ hex: createHash("md5").update(name).digest("hex").slice(0, 8) }),
  ...CLUSTER_COMPUTED,
};

const INVOKES: Record<string, InvokeMock> = {
  ...CLUSTER_INVOKES,
};

/**
 * Pulumi mocks that record every registration. `newResource` returns a realistic id and the inputs plus the
 * computed outputs the program reads; `call` refuses unknown invokes so a new data source is never silently empty.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  /** URN → URNs it depends on (explicit `dependsOn` and inputs from other resources). */
  readonly dependencies = new Map<string, string[]>();

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const id = args.id || `${args.type}::${args.name}-id`;
    const computed = COMPUTED[args.type]?.(args.inputs, args.name, id) ?? {};
    this.resources.push({
      urn: "",
      type: args.type,
      name: args.name,
      parent: null,
      props: args.inputs,
      id: args.custom ? id : null,
      custom: args.custom ?? true,
      provider: args.provider ?? null,
    });
    return { id: args.custom === false ? undefined : id, state: { ...args.inputs, ...computed } };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const mock = INVOKES[args.token];
    if (!mock) throw new Error(`no mock for invoke ${args.token}; add one to the plan's mocks`);
    return mock(args.inputs);
  }

  /** Called once the engine side has assigned a URN; fills in what `newResource` cannot see. */
  link(type: string, name: string, urn: string, parent: string, dependencies: string[]): void {
    const r = [...this.resources].reverse().find((x) => x.type === type && x.name === name && x.urn === "");
    if (r) {
      r.urn = urn;
      r.parent = parent || null;
    }
    this.dependencies.set(urn, dependencies);
  }
}

type Callback = (err: unknown, resp: any) => void;

/**
 * Installs the mocks and wraps the mock monitor so each record learns its URN and parent, which the public
 * mock interface does not pass to `newResource`.
 */
export async function installMocks(mocks: RecordingMocks, project: string, stack: string): Promise<void> {
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: Callback) =>
    register(req, (err: unknown, resp: any) => {
      if (!err && resp) {
        mocks.link(req.getType(), req.getName(), resp.getUrn(), req.getParent(), req.getDependenciesList());
      }
      callback(err, resp);
    });
}
