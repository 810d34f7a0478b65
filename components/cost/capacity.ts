import type { Cloud } from "./book";

/** CPU (cores), memory (GiB) and GPUs: what a pod asks for or a node offers. */
export interface Shape {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpu: number;
}

const MIB = 1 / 1024;

/** `amount` charged tier by tier: each `[size, rate]` applies to the next `size` units. */
function tiered(amount: number, tiers: readonly (readonly [number, number])[]): number {
  let left = amount;
  let total = 0;
  for (const [size, rate] of tiers) {
    const used = Math.min(left, size);
    total += used * rate;
    left -= used;
    if (left <= 0) break;
  }
  return total;
}

/** Reserved CPU on a node of `cores` cores: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % above four. */
const reservedCpu = (cores: number) => tiered(cores, [[1, 0.06], [1, 0.01], [2, 0.005], [Infinity, 0.0025]]);

/** GKE's memory reservation: 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next 112, 2 % above. */
function gkeReservedMemoryGiB(memoryGiB: number): number {
  if (memoryGiB < 1) return 255 * MIB;
  return tiered(memoryGiB, [[4, 0.25], [4, 0.2], [8, 0.1], [112, 0.06], [Infinity, 0.02]]);
}

/** Pods an EKS node runs with the VPC CNI's default (no prefix delegation): 29 on `.large`, 58 on xlarge and 2xlarge. */
export function eksMaxPods(instanceType: string): number {
  return /\.large$/.test(instanceType) ? 29 : 58;
}

/**
 * What the scheduler can place on a node: capacity less the kubelet's and system reservations and the 100 MiB
 * hard eviction threshold. GKE publishes its formula; EKS's AL2023 bootstrap reserves 255 MiB + 11 MiB per pod.
 */
export function allocatable(cloud: Cloud, machine: { type: string; vcpu: number; memoryGiB: number; gpu?: { count: number } }): Shape {
  const eviction = 100 * MIB;
  const memoryReserved = cloud === "aws" ? (255 + 11 * eksMaxPods(machine.type)) * MIB : gkeReservedMemoryGiB(machine.memoryGiB);
  return {
    cpu: machine.vcpu - reservedCpu(machine.vcpu),
    memoryGiB: machine.memoryGiB - memoryReserved - eviction,
    gpu: machine.gpu?.count ?? 0,
  };
}

export const subtract = (a: Shape, b: Shape): Shape => ({ cpu: a.cpu - b.cpu, memoryGiB: a.memoryGiB - b.memoryGiB, gpu: a.gpu - b.gpu });

/** The largest fraction of a node's allocatable a pod takes: what its share of the node's price is. */
export function dominantShare(pod: Shape, node: Shape): number {
  const shares = [pod.cpu / node.cpu, pod.memoryGiB / node.memoryGiB];
  if (pod.gpu > 0) shares.push(node.gpu > 0 ? pod.gpu / node.gpu : Infinity);
  return Math.max(...shares);
}

const fits = (pod: Shape, free: Shape) => pod.cpu <= free.cpu + 1e-9 && pod.memoryGiB <= free.memoryGiB + 1e-9 && pod.gpu <= free.gpu;

/**
 * Nodes needed for `pods` on identical nodes of shape `node`, by first-fit decreasing (largest dominant share first),
 * which is how a scheduler that spreads nothing and an autoscaler that adds nodes for pending pods end up.
 * `Infinity` when a pod fits no node at all.
 */
export function nodesNeeded(pods: readonly Shape[], node: Shape): number {
  if (pods.length === 0) return 0;
  if (pods.some((p) => !fits(p, node))) return Infinity;
  const sorted = [...pods].sort((a, b) => dominantShare(b, node) - dominantShare(a, node));
  const free: Shape[] = [];
  for (const pod of sorted) {
    const i = free.findIndex((f) => fits(pod, f));
    if (i >= 0) free[i] = subtract(free[i], pod);
    else free.push(subtract(node, pod));
  }
  return free.length;
}
