import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { movedFrom, type MovedFrom } from "../moved";
import type { EksNetworkArgs } from "./eks-args";
import { awsSubnetPlan } from "./network";

export interface AwsNetworkFacts {
  readonly vpcId: pulumi.Output<string>;
  /** One per zone: nodes and pods. */
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** One per zone: NAT gateways and internet-facing load balancers only. */
  readonly publicSubnetIds: pulumi.Output<string>[];
}

export interface AwsNetworkArgs {
  /** The cluster's name: the VPC, subnets and gateways are named and tagged after it. Required. */
  readonly clusterName: string;
  /** Region, for the zone lookup's error message. Required. */
  readonly region: string;
  /** Address plan and zones (resolved: see `EksNetworkArgs` for defaults). Required. */
  readonly network: Required<Pick<EksNetworkArgs, "vpcCidr" | "availabilityZones" | "natGatewayPerZone">>;
  /** Tags on every resource. Required. */
  readonly tags: Readonly<Record<string, string>>;
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/**
 * The cluster's VPC: private subnets for nodes, public ones for load balancers and NAT only, no security group
 * that admits anything.
 */
export class AwsNetwork extends pulumi.ComponentResource implements AwsNetworkFacts {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:AwsNetwork", name, {}, opts);
    const cfg = { name: args.clusterName, region: args.region, network: args.network };
    const o = (role: string) => ({ parent: this, ...movedFrom(args.movedFrom, role) });
    const tagged = (extra: Record<string, string> = {}) => ({ tags: { ...args.tags, ...extra } });
    const zones = cfg.network.availabilityZones;
    const plan = awsSubnetPlan(cfg.network.vpcCidr, zones);
    const azs = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: cfg.network.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, ...tagged({ Name: cfg.name }) },
      o("vpc"),
    );
    // The VPC's default group allows all traffic between its members; emptied so nothing relies on it.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], ...tagged({ Name: `${cfg.name}-default` }) }, o("default-sg"));
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, ...tagged({ Name: cfg.name }) }, o("igw"));
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], ...tagged({ Name: `${cfg.name}-public` }) },
      o("public-rt"),
    );
    const clusterTag = `kubernetes.io/cluster/${cfg.name}`;
    const publicSubnets: aws.ec2.Subnet[] = [];
    const privateSubnets: aws.ec2.Subnet[] = [];
    const nats: aws.ec2.NatGateway[] = [];
    for (let z = 0; z < zones; z++) {
      const az = azs.names.apply((names) => {
        if (names.length < zones) throw new Error(`${cfg.region} has ${names.length} zones; network.availabilityZones asks for ${zones}`);
        return names[z];
      });
      const pub = new aws.ec2.Subnet(
        `${name}-public-${z}`,
        {
          vpcId: vpc.id,
          cidrBlock: plan.public[z],
          availabilityZone: az,
          mapPublicIpOnLaunch: false,
          ...tagged({ Name: `${cfg.name}-public-${z}`, "kubernetes.io/role/elb": "1", [clusterTag]: "shared" }),
        },
        o(`public-${z}`),
      );
      new aws.ec2.RouteTableAssociation(`${name}-public-${z}`, { subnetId: pub.id, routeTableId: publicRt.id }, o(`public-${z}`));
      publicSubnets.push(pub);
      if (cfg.network.natGatewayPerZone || z === 0) {
        const eip = new aws.ec2.Eip(`${name}-nat-${z}`, { domain: "vpc", ...tagged({ Name: `${cfg.name}-nat-${z}` }) }, o(`nat-${z}`));
        nats.push(
          new aws.ec2.NatGateway(
            `${name}-nat-${z}`,
            { allocationId: eip.id, subnetId: pub.id, ...tagged({ Name: `${cfg.name}-nat-${z}` }) },
            { ...o(`nat-${z}`), dependsOn: [igw] },
          ),
        );
      }
      const priv = new aws.ec2.Subnet(
        `${name}-private-${z}`,
        {
          vpcId: vpc.id,
          cidrBlock: plan.private[z],
          availabilityZone: az,
          ...tagged({ Name: `${cfg.name}-private-${z}`, "kubernetes.io/role/internal-elb": "1", [clusterTag]: "shared" }),
        },
        o(`private-${z}`),
      );
      const rt = new aws.ec2.RouteTable(
        `${name}-private-rt-${z}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[cfg.network.natGatewayPerZone ? z : 0].id }],
          ...tagged({ Name: `${cfg.name}-private-${z}` }),
        },
        o(`private-rt-${z}`),
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${z}`, { subnetId: priv.id, routeTableId: rt.id }, o(`private-${z}`));
      privateSubnets.push(priv);
    }
    this.vpcId = vpc.id;
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds });
  }
}
