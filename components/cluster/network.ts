/** IPv4 CIDR arithmetic for laying out subnets; pure, so the layout is tested without a cloud. */

/** An IPv4 address as a number. */
export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The `index`-th sub-block of `cidr` that is `newBits` longer, like Terraform's `cidrsubnet`. */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const [ip, lenText] = cidr.split("/");
  const len = Number(lenText);
  const newLen = len + newBits;
  if (newLen > 28) throw new Error(`${cidr} is too small to split into /${newLen} subnets`);
  if (index < 0 || index >= 2 ** newBits) throw new Error(`${cidr} has no subnet ${index} at /${newLen}`);
  const base = ipv4ToInt(ip) - (ipv4ToInt(ip) % 2 ** (32 - len));
  return `${toIp(base + index * 2 ** (32 - newLen))}/${newLen}`;
}

export interface AwsSubnetPlan {
  /** Per zone: nodes and pods (the VPC CNI gives pods VPC addresses, so these take most of the space). */
  readonly private: readonly string[];
  /** Per zone: load balancers and NAT gateways only. */
  readonly public: readonly string[];
}

/**
 * Splits the VPC into four quarters: one private subnet per zone in the first three, and the last quarter cut
 * into small public subnets. Up to three zones get a quarter each; more zones share eighths.
 */
export function awsSubnetPlan(vpcCidr: string, zones: number): AwsSubnetPlan {
  const privateBits = zones <= 3 ? 2 : 3;
  const publicQuarter = cidrSubnet(vpcCidr, 2, 3);
  return {
    private: Array.from({ length: zones }, (_, i) => cidrSubnet(vpcCidr, privateBits, i)),
    public: Array.from({ length: zones }, (_, i) => cidrSubnet(publicQuarter, 3, i)),
  };
}
