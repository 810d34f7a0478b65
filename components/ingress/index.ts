import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, type LabelContext } from "../labels";
import { podSecurityLabels } from "../namespace/builders";
import { CHARTS } from "../versions";
import type { IngressSettings } from "./args";
import {
  CONTROLLER_SERVICE,
  ORIGIN_PULL_CA_SECRET,
  ORIGIN_TLS_SECRET,
  RELEASE_NAME,
  controllerServiceSpec,
  controllerValues,
  ingressNetworkPolicies,
  originPullPolicySpec,
  rateLimitPolicies,
  virtualServerSpec,
  type RouteTarget,
} from "./builders";

export * from "./args";
export * from "./builders";

export interface IngressControllerArgs {
  /** The controller's namespace (stack config `ingressNamespace`). */
  readonly namespace: string;
  readonly labels: LabelContext;
  readonly settings: IngressSettings;
  /** Public host name of the job API (the VirtualServer's host and the origin certificate's name). */
  readonly apiHost: string;
  /** Namespace of the processors: the VirtualServer, its Policies and certificate live beside the Services. */
  readonly processorsNamespace: pulumi.Input<string>;
  /** Its name as a plain string, for NetworkPolicy selectors. */
  readonly processorsNamespaceName: string;
  readonly processorPort: number;
  readonly routes: readonly RouteTarget[];
  readonly monitoringNamespace: string;
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
  /** cert-manager ClusterIssuer that signs the origin certificate. */
  readonly clusterIssuer: pulumi.Input<string>;
}

const API_VERSION = "k8s.nginx.org/v1";

export function validateIngressArgs(args: IngressControllerArgs): { propertyPath: string; reason: string }[] {
  const problems: { propertyPath: string; reason: string }[] = [];
  const s = args.settings;
  for (const t of args.routes) {
    const r = s.routes[t.processor];
    if (!r) problems.push({ propertyPath: `settings.routes.${t.processor}`, reason: "missing: every processor needs a route" });
    else if (!s.zones[r.zone]) problems.push({ propertyPath: `settings.routes.${t.processor}.zone`, reason: `unknown zone "${r.zone}"` });
  }
  const known = new Set(args.routes.map((t) => t.processor));
  for (const name of Object.keys(s.routes)) {
    if (!known.has(name)) problems.push({ propertyPath: `settings.routes.${name}`, reason: "names no processor" });
  }
  for (const [name, z] of Object.entries(s.zones)) {
    if (!(z.ratePerSecond > 0)) problems.push({ propertyPath: `settings.zones.${name}.ratePerSecond`, reason: "must be > 0" });
    if (!(z.clientRatePerSecond > 0)) problems.push({ propertyPath: `settings.zones.${name}.clientRatePerSecond`, reason: "must be > 0" });
  }
  if (s.cloudflareRanges.length === 0) problems.push({ propertyPath: "settings.cloudflareRanges", reason: "must not be empty" });
  return problems;
}

/**
 * F5 NGINX Ingress Controller in its own guarded namespace, the only LoadBalancer in the cluster, and the job API's
 * VirtualServer with per-route limits.
 */
export class IngressController extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly service: k8s.core.v1.Service;
  readonly virtualServer: k8s.apiextensions.CustomResource;
  /** The load balancer's public address (IP or host name). */
  readonly address: pulumi.Output<string>;

  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:ingress:IngressController", name, {}, opts);
    const problems = validateIngressArgs(args);
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: `invalid arguments for ingress ${name}: ${problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ")}`,
        errors: problems,
      });
    }
    const child = { parent: this };
    const labels = k8sLabels(args.labels, RELEASE_NAME, "ingress-controller");
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { ...labels, ...podSecurityLabels() } } },
      child,
    );
    const policies = ingressNetworkPolicies({
      cloudflareRanges: args.settings.cloudflareRanges,
      processorsNamespace: args.processorsNamespaceName,
      processorPort: args.processorPort,
      monitoringNamespace: args.monitoringNamespace,
      prometheusPodLabels: args.prometheusPodLabels,
    });
    const netpols = Object.entries(policies).map(
      ([policy, spec]) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: { name: policy, namespace: ns.metadata.name, labels }, spec }, child),
    );

    const pin = CHARTS.nginxIngress;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: RELEASE_NAME,
        chart: `${pin.repo}/${pin.chart}`,
        version: pin.version,
        namespace: ns.metadata.name,
        atomic: true,
        values: controllerValues(args.settings, labels),
      },
      { ...child, dependsOn: netpols },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { name: CONTROLLER_SERVICE, namespace: ns.metadata.name, labels }, spec: controllerServiceSpec(args.settings) },
      { ...child, dependsOn: [this.release] },
    );
    this.address = this.service.status.apply((st) => {
      const ingress = st?.loadBalancer?.ingress?.[0];
      return ingress?.ip ?? ingress?.hostname ?? "";
    });

    const inApp = (n: string) => ({ name: n, namespace: args.processorsNamespace, labels: k8sLabels(args.labels, "job-api", "edge") });
    const crOpts = { ...child, dependsOn: [this.release] };
    for (const [policy, body] of Object.entries(rateLimitPolicies(args.settings, args.routes))) {
      new k8s.apiextensions.CustomResource(`${name}-policy-${policy}`, { apiVersion: API_VERSION, kind: "Policy", metadata: inApp(policy), spec: body.spec }, crOpts);
    }
    let originPullPolicy: string | undefined;
    if (args.settings.originPullCa) {
      new k8s.core.v1.Secret(
        `${name}-origin-pull-ca`,
        { metadata: inApp(ORIGIN_PULL_CA_SECRET), type: "nginx.org/ca", stringData: { "ca.crt": args.settings.originPullCa } },
        child,
      );
      originPullPolicy = "cloudflare-origin-pull";
      new k8s.apiextensions.CustomResource(
        `${name}-policy-origin-pull`,
        { apiVersion: API_VERSION, kind: "Policy", metadata: inApp(originPullPolicy), spec: originPullPolicySpec() },
        crOpts,
      );
    }

    const certificate = new k8s.apiextensions.CustomResource(
      `${name}-origin-certificate`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: inApp("api-origin"),
        spec: {
          secretName: ORIGIN_TLS_SECRET,
          dnsNames: [args.apiHost],
          issuerRef: { kind: "ClusterIssuer", name: args.clusterIssuer, group: "cert-manager.io" },
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
          duration: "2160h",
          renewBefore: "720h",
        },
      },
      child,
    );

    this.virtualServer = new k8s.apiextensions.CustomResource(
      `${name}-virtualserver`,
      {
        apiVersion: API_VERSION,
        kind: "VirtualServer",
        metadata: inApp("job-api"),
        spec: virtualServerSpec({ settings: args.settings, host: args.apiHost, targets: args.routes, originPullPolicy }),
      },
      { ...crOpts, dependsOn: [this.release, certificate] },
    );
    this.registerOutputs({ address: this.address });
  }
}
