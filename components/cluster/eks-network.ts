import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ResolvedEksClusterArgs } from "./eks-args";
import { awsSubnetPlan } from "./network";

export interface AwsNetwork {
  readonly vpcId: pulumi.Output<string>;
  /** One per zone: nodes and pods. */
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** One per zone: NAT gateways and internet-facing load balancers only. */
  readonly publicSubnetIds: pulumi.Output<string>[];
}

/**
 * The cluster's VPC: private subnets for nodes, public ones for load balancers and NAT only, no security group
 * that admits anything.
 */
export function createAwsNetwork(
  name: string,
  cfg: Pick<ResolvedEksClusterArgs, "name" | "region" | "network">,
  tags: Record<string, string>,
  o: { parent: pulumi.Resource; provider: aws.Provider },
): AwsNetwork {
  const tagged = (extra: Record<string, string> = {}) => ({ tags: { ...tags, ...extra } });
  const zones = cfg.network.availabilityZones;
  const plan = awsSubnetPlan(cfg.network.vpcCidr, zones);
  const azs = aws.getAvailabilityZonesOutput({ state: "available" }, o);
  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    { cidrBlock: cfg.network.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, ...tagged({ Name: cfg.name }) },
    o,
  );
  // The VPC's default group allows all traffic between its members; emptied so nothing relies on it.
  new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], ...tagged({ Name: `${cfg.name}-default` }) }, o);
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, ...tagged({ Name: cfg.name }) }, o);
  const publicRt = new aws.ec2.RouteTable(
    `${name}-public-rt`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], ...tagged({ Name: `${cfg.name}-public` }) },
    o,
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
      o,
    );
    new aws.ec2.RouteTableAssociation(`${name}-public-${z}`, { subnetId: pub.id, routeTableId: publicRt.id }, o);
    publicSubnets.push(pub);
    if (cfg.network.natGatewayPerZone || z === 0) {
      const eip = new aws.ec2.Eip(`${name}-nat-${z}`, { domain: "vpc", ...tagged({ Name: `${cfg.name}-nat-${z}` }) }, o);
      nats.push(
        new aws.ec2.NatGateway(
          `${name}-nat-${z}`,
          { allocationId: eip.id, subnetId: pub.id, ...tagged({ Name: `${cfg.name}-nat-${z}` }) },
          { ...o, dependsOn: [igw] },
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
      o,
    );
    const rt = new aws.ec2.RouteTable(
      `${name}-private-rt-${z}`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[cfg.network.natGatewayPerZone ? z : 0].id }],
        ...tagged({ Name: `${cfg.name}-private-${z}` }),
      },
      o,
    );
    new aws.ec2.RouteTableAssociation(`${name}-private-${z}`, { subnetId: priv.id, routeTableId: rt.id }, o);
    privateSubnets.push(priv);
  }
  return {
    vpcId: vpc.id,
    privateSubnetIds: privateSubnets.map((s) => s.id),
    publicSubnetIds: publicSubnets.map((s) => s.id),
  };
}
