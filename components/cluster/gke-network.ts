import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { movedFrom, type MovedFrom } from "../moved";
import type { ResolvedGkeClusterArgs } from "./gke-args";

/** Secondary range names the cluster's IP allocation policy refers to. */
export const GKE_RANGES = { pods: "pods", services: "services" } as const;

export interface GcpNetworkFacts {
  readonly networkId: pulumi.Output<string>;
  readonly subnetworkId: pulumi.Output<string>;
  /** The NAT private nodes reach the internet through; the cluster waits for it. */
  readonly nat: gcp.compute.RouterNat;
}

/**
 * Ports the control plane must reach on pods beyond GKE's own 443/10250 rule: webhooks and aggregated APIs run by
 * add-ons (KEDA's metrics API server on 6443, its admission webhooks on 9443). Without them a private cluster's
 * HPAs get no external metrics and ScaledObject admission times out.
 */
export const CONTROL_PLANE_TO_POD_PORTS = ["6443", "9443"] as const;

export interface GcpNetworkArgs {
  /** The resolved cluster arguments: name (of the VPC and its parts), project, region, address plan. Required. */
  readonly cluster: Pick<ResolvedGkeClusterArgs, "name" | "project" | "region" | "network">;
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/**
 * A custom-mode VPC with one VPC-native node subnet, Private Google Access and Cloud NAT. Its only firewall rule
 * admits the private control plane's range to the add-ons' webhook ports.
 */
export class GcpNetwork extends pulumi.ComponentResource implements GcpNetworkFacts {
  readonly networkId: pulumi.Output<string>;
  readonly subnetworkId: pulumi.Output<string>;
  readonly nat: gcp.compute.RouterNat;

  constructor(name: string, args: GcpNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:GcpNetwork", name, {}, opts);
    const cfg = args.cluster;
    const project = cfg.project;
    const prefix = args.movedFrom?.prefix;
    const o = (role: string, formerRole = role) => ({ parent: this, ...movedFrom(args.movedFrom, role, prefix ? `${prefix}-${formerRole}` : undefined) });
    const network = new gcp.compute.Network(
      `${name}-vpc`,
      { name: cfg.name, project, autoCreateSubnetworks: false, routingMode: "REGIONAL" },
      o("vpc", "network"),
    );
    const subnet = new gcp.compute.Subnetwork(
      `${name}-nodes`,
      {
        name: `${cfg.name}-nodes`,
        project,
        region: cfg.region,
        network: network.id,
        ipCidrRange: cfg.network.nodesCidr,
        secondaryIpRanges: [
          { rangeName: GKE_RANGES.pods, ipCidrRange: cfg.network.podsCidr },
          { rangeName: GKE_RANGES.services, ipCidrRange: cfg.network.servicesCidr },
        ],
        // Private nodes reach Google APIs (Artifact Registry, logging) without the NAT.
        privateIpGoogleAccess: true,
        logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
      },
      o("nodes"),
    );
    const router = new gcp.compute.Router(
      `${name}-router`,
      { name: `${cfg.name}-router`, project, region: cfg.region, network: network.id },
      o("router"),
    );
    this.nat = new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        name: `${cfg.name}-nat`,
        project,
        region: cfg.region,
        router: router.name,
        natIpAllocateOption: "AUTO_ONLY",
        sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
        logConfig: { enable: true, filter: "ERRORS_ONLY" },
      },
      o("nat"),
    );
    new gcp.compute.Firewall(
      `${name}-control-plane-webhooks`,
      {
        name: `${cfg.name}-control-plane-webhooks`,
        project,
        network: network.id,
        direction: "INGRESS",
        sourceRanges: [cfg.network.masterCidr],
        allows: [{ protocol: "tcp", ports: [...CONTROL_PLANE_TO_POD_PORTS] }],
        destinationRanges: [cfg.network.podsCidr],
        logConfig: { metadata: "INCLUDE_ALL_METADATA" },
      },
      o("control-plane-webhooks"),
    );
    this.networkId = network.id;
    this.subnetworkId = subnet.id;
    this.registerOutputs({ networkId: this.networkId, subnetworkId: this.subnetworkId });
  }
}
