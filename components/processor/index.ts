import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels } from "../labels";
import { deploymentSpec, pdbSpec, scaledObjectSpec, serviceSpec, type ProcessorSpecArgs } from "./builders";

export * from "./builders";

export interface ProcessorServiceArgs extends Omit<ProcessorSpecArgs, "serviceAccountName" | "image"> {
  readonly namespace: pulumi.Input<string>;
  /** Image by digest (`repo@sha256:…`); a tag is refused. */
  readonly image: pulumi.Input<string>;
  /** Cloud identity binding for the ServiceAccount (Workload Identity / IRSA). Default: none. */
  readonly serviceAccountAnnotations?: pulumi.Input<Record<string, string>>;
  /** KEDA TriggerAuthentication with the database connection. */
  readonly triggerAuthenticationName: string;
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
        metadata: metadata(),
        spec: deploymentSpec({ ...args, image, serviceAccountName: this.serviceAccount.metadata.name }),
      },
      // KEDA's HPA changes replicas; Pulumi must not fight it.
      { ...child, ignoreChanges: ["spec.replicas"] },
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
