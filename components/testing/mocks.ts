import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

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
  /** URNs this resource was known by before a move or rename (its `aliases`), resolved as the engine would. */
  aliases?: string[];
  /** The `customTimeouts` resource option, when set: how long the engine waits for create / update / delete. */
  customTimeouts?: { create?: string; update?: string; delete?: string };
}

export type ComputedOutputs = (inputs: Record<string, any>, name: string, id: string) => Record<string, unknown>;
export type InvokeMock = (inputs: Record<string, any>) => Record<string, unknown>;

export const fakeDigest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

const ACCOUNT = "123456789012";
const CA_DATA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBmock\n-----END CERTIFICATE-----\n").toString("base64");

const region = (inputs: Record<string, any>) => (inputs.region as string | undefined) ?? "eu-west-1";
const arn = (service: string, resource: string, inputs: Record<string, any> = {}) =>
  `arn:aws:${service}:${service === "iam" ? "" : region(inputs)}:${ACCOUNT}:${resource}`;

/** Outputs the GKE/EKS providers compute on create that the cluster components read (ids, endpoints, ARNs). */
export const CLUSTER_COMPUTED: Record<string, ComputedOutputs> = {
  "gcp:container/cluster:Cluster": (inputs) => ({
    endpoint: "34.82.10.20",
    masterAuth: { clusterCaCertificate: CA_DATA, clientCertificateConfig: { issueClientCertificate: false } },
    selfLink: `https://container.googleapis.com/v1/projects/${inputs.project}/locations/${inputs.location}/clusters/${inputs.name}`,
  }),
  "gcp:serviceaccount/account:Account": (inputs) => {
    const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
    return { email, member: `serviceAccount:${email}`, name: `projects/${inputs.project}/serviceAccounts/${email}` };
  },
  "gcp:artifactregistry/repository:Repository": (inputs) => ({
    name: inputs.repositoryId,
    registryUri: `${inputs.location}-docker.pkg.dev/${inputs.project}/${inputs.repositoryId}`,
  }),
  "aws:eks/cluster:Cluster": (inputs) => ({
    endpoint: `https://0123456789ABCDEF0123456789ABCDEF.gr7.${region(inputs)}.eks.amazonaws.com`,
    certificateAuthority: { data: CA_DATA },
    identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region(inputs)}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF` }] }],
    arn: arn("eks", `cluster/${inputs.name}`, inputs),
  }),
  "aws:iam/role:Role": (inputs, name) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? name}`, name: inputs.name ?? name }),
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (inputs) => ({
    arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
  }),
  "aws:kms/key:Key": (_inputs, name) => ({ arn: arn("kms", `key/${name}`), keyId: `${name}-key-id` }),
  "aws:ecr/repository:Repository": (inputs) => ({
    arn: arn("ecr", `repository/${inputs.name}`, inputs),
    registryId: ACCOUNT,
    repositoryUrl: `${ACCOUNT}.dkr.ecr.${region(inputs)}.amazonaws.com/${inputs.name}`,
  }),
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
  "aws:eks/nodeGroup:NodeGroup": (inputs) => ({
    arn: arn("eks", `nodegroup/${inputs.nodeGroupName}`, inputs),
    status: "ACTIVE",
  }),
  "aws:cloudwatch/logGroup:LogGroup": (inputs) => ({ arn: arn("logs", `log-group:${inputs.name}`, inputs) }),
};

/** Data sources the cluster components call (project numbers, auth tokens, availability zones). */
export const CLUSTER_INVOKES: Record<string, InvokeMock> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    id: "eu-west-1",
    names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
    groupNames: ["eu-west-1"],
  }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    id: "eu-west-1",
    authorizationToken: Buffer.from("AWS:mock-ecr-token").toString("base64"),
    expiresAt: "2030-01-01T12:00:00Z",
    password: "mock-ecr-token",
    proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`,
    userName: "AWS",
  }),
  "aws:index/getPartition:getPartition": () => ({
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: ACCOUNT,
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/deployer`,
    userId: "AIDAMOCKUSERID",
  }),
  "gcp:organizations/getProject:getProject": (inputs) => ({
    id: `projects/${inputs.projectId ?? "pitchey-prod"}`,
    projectId: inputs.projectId ?? "pitchey-prod",
    name: inputs.projectId ?? "pitchey-prod",
    number: "402318765094",
  }),
  "gcp:organizations/getClientConfig:getClientConfig": () => ({
    id: "mock",
    accessToken: "ya29.mock-access-token",
    project: "pitchey-prod",
    region: "us-west1",
    zone: "us-west1-a",
  }),
};

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
  // Cloudflare returns a minted token's value once, at creation.
  "cloudflare:index/accountToken:AccountToken": (_i, name) => ({ value: `mock-${name}-token-value` }),
  "random:index/randomId:RandomId": (_i, name) => ({ hex: createHash("md5").update(name).digest("hex").slice(0, 8) }),
  ...CLUSTER_COMPUTED,
  // The cloud assigns a LoadBalancer Service its address; the edge's origin record reads it.
  "kubernetes:core/v1:Service": (inputs) =>
    inputs.spec?.type === "LoadBalancer" ? { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } } } : {},
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

  /** `computed`: outputs for further resource types, e.g. a StackReference's outputs, by the caller that knows them. */
  constructor(private readonly extra: Record<string, ComputedOutputs> = {}) {}

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const id = args.id || `${args.type}::${args.name}-id`;
    const computed = (this.extra[args.type] ?? COMPUTED[args.type])?.(args.inputs, args.name, id) ?? {};
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
  link(type: string, name: string, urn: string, parent: string, dependencies: string[], aliases: string[] = []): void {
    const r = [...this.resources].reverse().find((x) => x.type === type && x.name === name && x.urn === "");
    if (r) {
      r.urn = urn;
      r.parent = parent || null;
      if (aliases.length > 0) r.aliases = aliases;
    }
    this.dependencies.set(urn, dependencies);
  }

  /** Records the resource options the engine acts on that are not inputs (today: `customTimeouts`). */
  linkOptions(urn: string, customTimeouts: { create?: string; update?: string; delete?: string } | undefined): void {
    const r = this.resources.find((x) => x.urn === urn);
    if (r && customTimeouts) r.customTimeouts = customTimeouts;
  }
}

function requestTimeouts(req: any): { create?: string; update?: string; delete?: string } | undefined {
  const t = req.getCustomtimeouts?.();
  if (!t) return undefined;
  const out = Object.fromEntries(
    [
      ["create", t.getCreate()],
      ["update", t.getUpdate()],
      ["delete", t.getDelete()],
    ].filter(([, v]) => v),
  );
  return Object.keys(out).length > 0 ? out : undefined;
}

type Callback = (err: unknown, resp: any) => void;

/** The part of a URN after `::project::` that names the resource's type and its ancestors' (`A$B$type`). */
function qualifiedType(urn: string): string {
  return urn.split("::")[2];
}

/** What an alias spec in a registration request is: fields left empty default to the resource's own. */
export interface AliasSpec {
  readonly urn?: string;
  readonly name?: string;
  readonly type?: string;
  readonly stack?: string;
  readonly project?: string;
  readonly parentUrn?: string;
  readonly noParent?: boolean;
}

/**
 * The URN an alias names, resolved as the engine resolves alias specs: unset fields default to the resource's
 * own name, type, stack, project and parent.
 */
export function aliasUrn(
  alias: AliasSpec,
  self: { readonly name: string; readonly type: string; readonly parent: string; readonly stack: string; readonly project: string },
): string {
  if (alias.urn) return alias.urn;
  const type = alias.type || self.type;
  const parent = alias.noParent ? "" : alias.parentUrn || self.parent;
  // The same scheme as the URNs the mock monitor hands out (the parent's own type, then the resource's), so an
  // alias can be compared with the URNs a plan records.
  const qualified = parent ? `${qualifiedType(parent).split("$").pop()}$${type}` : type;
  return `urn:pulumi:${alias.stack || self.stack}::${alias.project || self.project}::${qualified}::${alias.name || self.name}`;
}

function requestAliases(req: any, stack: string, project: string): string[] {
  const list: any[] = req.getAliasesList?.() ?? [];
  return list.map((a) => {
    const spec = a.getSpec?.();
    const self = { name: req.getName(), type: req.getType(), parent: req.getParent(), stack, project };
    if (!spec) return aliasUrn({ urn: a.getUrn() }, self);
    return aliasUrn(
      {
        name: spec.getName(),
        type: spec.getType(),
        stack: spec.getStack(),
        project: spec.getProject(),
        parentUrn: spec.getParenturn(),
        noParent: spec.getNoparent(),
      },
      self,
    );
  });
}

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
  // A read resource (a StackReference, a `.get`) has a URN and parent from the engine like any other: the policy
  // analyzer receives it with both.
  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req: any, callback: Callback) =>
    read(req, (err: unknown, resp: any) => {
      if (!err && resp) mocks.link(req.getType(), req.getName(), resp.getUrn(), req.getParent(), req.getDependenciesList?.() ?? []);
      callback(err, resp);
    });
  monitor.registerResource = (req: any, callback: Callback) =>
    register(req, (err: unknown, resp: any) => {
      if (!err && resp) {
        const aliases = requestAliases(req, stack, project);
        mocks.link(req.getType(), req.getName(), resp.getUrn(), req.getParent(), req.getDependenciesList(), aliases);
        mocks.linkOptions(resp.getUrn(), requestTimeouts(req));
      }
      callback(err, resp);
    });
}
