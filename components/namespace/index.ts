import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, type LabelContext } from "../labels";
import { limitRangeSpec, networkPolicies, podSecurityLabels, type NetworkPolicyArgs } from "./builders";

export * from "./builders";

export interface WorkloadNamespaceArgs extends NetworkPolicyArgs {
  /** Namespace name. */
  readonly name: string;
  readonly labels: LabelContext;
  /** ResourceQuota `hard` limits (the playbook's quota by default, from stack config). */
  readonly quota: Readonly<Record<string, string>>;
}

/** A namespace for workloads with its guard rails: PSA restricted, quota, limit range, default-deny network. */
export class WorkloadNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  /** The namespace's name, resolved after it exists. */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: WorkloadNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:namespace:WorkloadNamespace", name, {}, opts);
    const labels = k8sLabels(args.labels, args.name, "namespace");
    const child = { parent: this };
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.name, labels: { ...labels, ...podSecurityLabels() } } },
      child,
    );
    this.name = this.namespace.metadata.name;
    const meta = (n: string) => ({ name: n, namespace: this.name, labels });
    new k8s.core.v1.ResourceQuota(`${name}-quota`, { metadata: meta("container-quota"), spec: { hard: { ...args.quota } } }, child);
    new k8s.core.v1.LimitRange(`${name}-limits`, { metadata: meta("container-limits"), spec: limitRangeSpec() }, child);
    for (const [policy, spec] of Object.entries(networkPolicies(args))) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: meta(policy), spec }, child);
    }
    this.registerOutputs({ name: this.name });
  }
}
