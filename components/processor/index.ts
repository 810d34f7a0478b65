import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels } from "../labels";
import { deploymentSpec, pdbSpec, rolloutTimeouts, scaledObjectSpec, serviceSpec, sloAnnotations, type ProcessorSpecArgs } from "./builders";

export * from "./builders";
export * from "./secrets";
export type * from "./settings";

export interface ProcessorServiceArgs extends Omit<ProcessorSpecArgs, "serviceAccountName" | "image"> {
  readonly namespace: pulumi.Input<string>;
  /** Image by digest (`repo@sha256:…`); a tag is refused. */
  readonly image: pulumi.Input<string>;
  /** Cloud identity binding for the ServiceAccount (Workload Identity / IRSA). Default: none. */
  readonly serviceAccountAnnotations?: pulumi.Input<Record<string, string>>;
  /** KEDA TriggerAuthentication with the database connection. */
  readonly triggerAuthenticationName: string;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Checks what the types cannot: every problem is reported at once, with its argument path, before any child
 * resource exists.
 */
export function validateProcessorArgs(args: ProcessorServiceArgs): { propertyPath: string; reason: string }[] {
  const problems: { propertyPath: string; reason: string }[] = [];
  if (!DNS_LABEL.test(args.name)) problems.push({ propertyPath: "name", reason: `"${args.name}" is not a valid Kubernetes name` });
  if (!/^[a-z]+$/.test(args.jobType)) problems.push({ propertyPath: "jobType", reason: `"${args.jobType}" is not a job type` });
  const pool = args.config.placement.pool;
  if (args.pool.name !== pool) {
    problems.push({ propertyPath: "pool", reason: `scheduling facts are for pool "${args.pool.name}" but config.placement.pool is "${pool}"` });
  }
  if (args.config.placement.fallbackToOnDemand && !args.fallbackPool) {
    problems.push({ propertyPath: "fallbackPool", reason: "required when config.placement.fallbackToOnDemand is true" });
  }
  if (pool === "sandbox" && !args.runtimeClassName) {
    problems.push({ propertyPath: "runtimeClassName", reason: "required on the sandbox pool: untrusted code must not run under the default runtime" });
  }
  if (pool === "sandbox" && args.httpsEgress) {
    problems.push({ propertyPath: "httpsEgress", reason: "must be false on the sandbox pool: untrusted code gets no route out" });
  }
  if (args.config.resources.gpu > 0 && !args.pool.taints.some((t) => t.key === "nvidia.com/gpu")) {
    problems.push({ propertyPath: "pool", reason: `requests ${args.config.resources.gpu} GPU(s) but pool "${args.pool.name}" is not a GPU pool` });
  }
  return problems;
}

/** One processor: ServiceAccount, Deployment, Service, PodDisruptionBudget and KEDA ScaledObject. */
export class ProcessorService extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly pdb: k8s.policy.v1.PodDisruptionBudget;
  readonly scaledObject: k8s.apiextensions.CustomResource;

  constructor(name: string, args: ProcessorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:processor:ProcessorService", name, {}, opts);
    const problems = validateProcessorArgs(args);
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: `invalid arguments for processor ${name}: ${problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ")}`,
        errors: problems,
      });
    }
    const labels = k8sLabels(args.labels, args.name);
    const metadata = (suffix = "") => ({ name: `${args.name}${suffix}`, namespace: args.namespace, labels });
    const child = { parent: this };
    const image = pulumi.output(args.image).apply((ref) => {
      if (!/@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`${args.name}: image must be pinned by digest, got ${ref}`);
      return ref;
    });

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { ...metadata(), annotations: args.serviceAccountAnnotations },
        automountServiceAccountToken: false,
      },
      child,
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { ...metadata(), ...(args.config.slo ? { annotations: sloAnnotations(args.config.slo) } : {}) },
        spec: deploymentSpec({ ...args, image, serviceAccountName: this.serviceAccount.metadata.name }),
      },
      // KEDA's HPA changes replicas; Pulumi must not fight it.
      { ...child, ignoreChanges: ["spec.replicas"], customTimeouts: rolloutTimeouts(args.config) },
    );

    this.service = new k8s.core.v1.Service(`${name}-service`, { metadata: metadata(), spec: serviceSpec(args.name) }, child);

    this.pdb = new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: metadata("-pdb"), spec: pdbSpec(args.name, args.config) },
      child,
    );

    this.scaledObject = new k8s.apiextensions.CustomResource(
      `${name}-scaledobject`,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: metadata(),
        spec: scaledObjectSpec({
          name: args.name,
          jobType: args.jobType,
          config: args.config,
          triggerAuthenticationName: args.triggerAuthenticationName,
        }),
      },
      { ...child, dependsOn: [this.deployment] },
    );

    this.registerOutputs({
      deployment: this.deployment.metadata.name,
      service: this.service.metadata.name,
    });
  }
}
