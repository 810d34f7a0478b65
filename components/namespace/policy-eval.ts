import { ipv4ToInt } from "../cluster/network";

/**
 * Decides whether NetworkPolicies let one connection through, the way Kubernetes defines it: a pod is isolated in a
 * direction once any policy of its namespace selects it for that direction, and an isolated pod's connection passes
 * if any of those policies has a rule whose peers and ports match. A connection needs both ends: the sender's egress
 * and the receiver's ingress. Tests use it to check that namespaces' policies meet, flow by flow.
 *
 * Scope: label selectors (matchLabels and matchExpressions), namespaces matched by their `kubernetes.io/metadata.name`
 * label, IPv4 `ipBlock`s for addresses outside the cluster, numeric ports with `endPort`. Named ports match nothing.
 * Traffic to a Service is judged at the pod it is forwarded to, as the common CNIs do.
 */

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

interface Peer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

interface Rule {
  readonly from?: readonly Peer[];
  readonly to?: readonly Peer[];
  readonly ports?: readonly { readonly protocol?: string; readonly port?: number | string; readonly endPort?: number }[];
}

/** A NetworkPolicy spec as the builders produce it (plain values, no Outputs). */
export interface PlainPolicySpec {
  readonly podSelector: LabelSelector;
  readonly policyTypes?: readonly string[];
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
}

/** A NetworkPolicy in its namespace. */
export interface NamespacedPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly spec: PlainPolicySpec;
}

/** One end of a connection: a pod (its namespace and labels) or an address outside the cluster. */
export type Endpoint = { readonly namespace: string; readonly labels: Readonly<Record<string, string>> } | { readonly ip: string };

/** The verdict, with the policies that admitted each side (`unrestricted` when no policy isolates that end). */
export interface FlowVerdict {
  readonly allowed: boolean;
  readonly egress: readonly string[] | "unrestricted";
  readonly ingress: readonly string[] | "unrestricted";
}

/** Policies keyed by name, as the builders return them, placed in a namespace. */
export function inNamespace(namespace: string, policies: Record<string, unknown>): NamespacedPolicy[] {
  return Object.entries(policies).map(([name, spec]) => ({ namespace, name, spec: spec as PlainPolicySpec }));
}

export function labelsMatch(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === "In" ? has && values.includes(labels[e.key]) :
      e.operator === "NotIn" ? !has || !values.includes(labels[e.key]) :
      e.operator === "Exists" ? has :
      e.operator === "DoesNotExist" ? !has :
      false;
    if (!ok) return false;
  }
  return true;
}

export function inCidr(ip: string, cidr: string): boolean {
  if (ip.includes(":") || cidr.includes(":")) return false;
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

const types = (spec: PlainPolicySpec): readonly string[] =>
  spec.policyTypes && spec.policyTypes.length > 0 ? spec.policyTypes : spec.egress ? ["Ingress", "Egress"] : ["Ingress"];

/** Whether `peer` (of a policy in `policyNamespace`) names `end`. */
function peerMatches(peer: Peer, policyNamespace: string, end: Endpoint): boolean {
  if (peer.ipBlock) return "ip" in end && inCidr(end.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(end.ip, c));
  if (!("namespace" in end)) return false;
  const namespaceOk = peer.namespaceSelector
    ? labelsMatch(peer.namespaceSelector, { "kubernetes.io/metadata.name": end.namespace })
    : end.namespace === policyNamespace;
  return namespaceOk && labelsMatch(peer.podSelector, end.labels);
}

function portMatches(rule: Rule, port: number, protocol: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some(
    (p) => (p.protocol ?? "TCP") === protocol && (p.port === undefined || (typeof p.port === "number" && port >= p.port && port <= (p.endPort ?? p.port))),
  );
}

/** The policies admitting the connection on one side, or `unrestricted` when none isolates that pod. */
function side(policies: readonly NamespacedPolicy[], pod: Endpoint, other: Endpoint, direction: "Ingress" | "Egress", port: number, protocol: string): readonly string[] | "unrestricted" {
  if (!("namespace" in pod)) return "unrestricted";
  const isolating = policies.filter((p) => p.namespace === pod.namespace && types(p.spec).includes(direction) && labelsMatch(p.spec.podSelector, pod.labels));
  if (isolating.length === 0) return "unrestricted";
  return isolating
    .filter((p) =>
      (direction === "Ingress" ? p.spec.ingress : p.spec.egress)?.some((rule) => {
        const peers = direction === "Ingress" ? rule.from : rule.to;
        return (!peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.namespace, other))) && portMatches(rule, port, protocol);
      }),
    )
    .map((p) => p.name);
}

/** Whether `from` may open a connection to `to` on `port`. */
export function evaluateFlow(policies: readonly NamespacedPolicy[], from: Endpoint, to: Endpoint, port: number, protocol = "TCP"): FlowVerdict {
  const egress = side(policies, from, to, "Egress", port, protocol);
  const ingress = side(policies, to, from, "Ingress", port, protocol);
  const open = (s: readonly string[] | "unrestricted") => s === "unrestricted" || s.length > 0;
  return { allowed: open(egress) && open(ingress), egress, ingress };
}
